"""Outbound webhooks: endpoints, the delivery outbox, signing, retries (issue 12).

Reads the event store (``portal_app.events``), never the ledger tables.
"""
