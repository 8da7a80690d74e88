"""The Stripe-compatible HTTP API (being written)."""

ROUTES: list = []
