"""Customer portal pages (being written)."""

import reflex as rx


def register(app: rx.App) -> None:
    """Add the portal's pages to ``app``."""
    app.add_page(lambda: rx.text("Portico portal"), route="/portal")
