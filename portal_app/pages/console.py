"""Merchant console pages (being written)."""

import reflex as rx


def register(app: rx.App) -> None:
    """Add the console's pages to ``app``."""
    app.add_page(lambda: rx.text("Portico console"), route="/console")
