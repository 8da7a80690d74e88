"""Run a coroutine to completion on a fresh event loop in its own thread.

A browser test earlier in the run (Playwright's sync API) may leave an event loop
running in the main thread, where ``asyncio.run`` then refuses to start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, on a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
