"""Console sign-in and sign-out routes (being written)."""

ROUTES: list = []
