"""Billing: the contract every other package uses, and the local ledger behind it.

Outside ``billing/`` (and the wire API, ``api/``), code uses only the contract:
``provider`` (the ``BillingProvider`` protocol, its typed inputs) and
``providers`` (``billing_provider(account_id, uow=...)``). The ledger's rooms,
each importing only the ones above it:

- ``models`` (tables), ``tax_id_types`` (Stripe's tax ID types, formats, check digits),
  ``tax_ids`` (customers' tax IDs), ``objects`` (their Stripe JSON), ``ledger_events`` (what
  each change appends to the event store), ``metadata``, ``processor`` (test cards)
- ``catalog`` (products, prices), ``coupons`` (coupons, promotion codes)
- ``payment_methods``, ``customers``, ``meters`` (usage)
- ``payment_objects`` (Stripe JSON of payment methods, setup intents, mandates,
  configurations), ``authorizations`` (the test authorization page's pending
  authorizations, a registry of kinds), ``mandates``, ``setup_intents``,
  ``payment_method_configurations``
- ``subscription_items``, ``discounts`` (a coupon on a subscription, its amounts),
  ``invoicing`` (bill a period or pending items, close, collect)
- ``subscriptions`` (create, read, lock), ``prorations``, ``schedule_phases``
- ``invoice_payments`` (pay an open invoice now, void, write off; 3-D Secure's kind)
- ``cancellations``, ``pauses``, ``dunning`` (automatic retries of failed renewals and
  the outcome when all fail), ``renewals`` (the clock), ``test_clocks`` (Stripe's test
  clocks: a simulated time for their own customers)
- ``changes`` (plan and quantity changes, previews), ``schedules`` (the period-end
  change and the schedules API)

Money is rounded by :mod:`portal_app.money`, periods computed by :mod:`portal_app.periods`.
"""
