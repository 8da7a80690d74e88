"""What portal pages show: view models built from the billing contract's Stripe-shaped objects.

Each module builds the plain, already translated and formatted dataclasses one page (or
part of a page) reads through its State; the portal's domain rules live in
``portal_app.portal``, billing behind ``portal_app.billing.providers``.
"""
