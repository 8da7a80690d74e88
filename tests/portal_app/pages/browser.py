"""What the portal's browser tests share: screenshots at two widths, waiting for an address.

(Fixtures and data live in each test module; ``create_session`` and ``text_of`` in
``test_portal_browser``.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHOTS = Path(os.environ.get("PORTICO_SHOTS", "/tmp/shots"))
DESKTOP = {"width": 1280, "height": 900}
SIZES = (("phone", {"width": 390, "height": 844}), ("desktop", DESKTOP))


def screenshots(folder: str, *, prefix: str = "", settle_ms: int = 300,
                enabled: bool = True) -> Callable[[Any, str], None]:
    """A ``shoot(page, name)`` that saves the page at 390 px and 1280 px wide as
    ``SHOTS/<folder>/<prefix><name>-phone.png`` and ``...-desktop.png``, then leaves the
    page at desktop width (``enabled=False``: a ``shoot`` that does nothing)."""
    directory = SHOTS / folder

    def shoot(page: Any, name: str) -> None:
        if not enabled:
            return
        directory.mkdir(parents=True, exist_ok=True)
        for label, size in SIZES:
            page.set_viewport_size(size)
            page.wait_for_timeout(settle_ms)
            page.screenshot(path=str(directory / f"{prefix}{name}-{label}.png"),
                            full_page=True)
        page.set_viewport_size(DESKTOP)

    return shoot


def at(page: Any, path: str) -> None:
    """Wait until the address is ``path`` (with or without Reflex's trailing slash)."""
    page.wait_for_url(re.compile(rf"^[^?#]*{re.escape(path)}/?(\?.*)?$"), wait_until="commit")
