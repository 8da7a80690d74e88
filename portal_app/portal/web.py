"""The portal link route ``/p/<token>`` (being written)."""

ROUTES: list = []
