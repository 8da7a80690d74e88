"""Billing: the contract every other package uses, and the local ledger behind it.

Outside ``billing/`` (and the wire API, ``api/``), code uses only the contract:
``provider`` (the ``BillingProvider`` protocol, its typed inputs) and
``providers`` (``billing_provider(account_id, uow=...)``). The ledger's rooms,
each importing only the ones above it:

- ``models`` (tables), ``objects`` (their Stripe JSON), ``ledger_events`` (what
  each change appends to the event store), ``metadata``, ``processor`` (test cards)
- ``catalog`` (products, prices), ``coupons`` (coupons, promotion codes)
- ``payment_methods``, ``customers``, ``meters`` (usage)
- ``subscription_items``, ``discounts`` (a coupon on a subscription, its amounts),
  ``invoicing`` (bill a period or pending items, close, collect)
- ``subscriptions`` (create, read, lock), ``prorations``, ``schedule_phases``
- ``cancellations``, ``pauses``, ``renewals`` (the clock)
- ``changes`` (plan and quantity changes, previews), ``schedules`` (the period-end
  change and the schedules API)

Money is rounded by :mod:`portal_app.money`, periods computed by :mod:`portal_app.periods`.
"""
