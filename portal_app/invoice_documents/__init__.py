"""Invoice documents: the hosted invoice page and the invoice PDF, from Stripe-shaped dicts.

They read only Stripe objects (the invoice with its lines, the customer's locale, the
merchant's name), so they serve an invoice of the local ledger and one of a merchant's
Stripe account alike. ``links`` makes and checks their unguessable URLs; ``document``
turns an invoice into translated, locale-formatted texts, which ``hosted`` (HTML) and
``pdf`` (fpdf2 with HarfBuzz shaping, right-to-left for Arabic) lay out.
"""
