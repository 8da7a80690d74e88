"""Calling portal State handlers as the browser would: a fresh state tree at a URL.

With the ``portal_database`` fixture (``conftest.py``) the handlers run on the test
database and the frozen clock.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlencode

import reflex as rx
from reflex.istate.data import RouterData

S = TypeVar("S", bound=rx.State)


def router_data(path: str, *, cookie: str = "", query: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> RouterData:
    """What the browser's request at ``path?query`` with ``cookie`` tells a handler."""
    return RouterData.from_router_data({
        "pathname": path, "query": query or {},
        "asPath": f"{path}?{urlencode(query)}" if query else path,
        "headers": {"cookie": cookie, "accept-language": "", **(headers or {})},
    })


def handler_state(cls: type[S], cookie: str = "", *, path: str = "/portal",
                  query: dict[str, str] | None = None, **headers: Any) -> S:
    """``cls`` in a new state tree whose router is :func:`router_data` (``headers``:
    more request headers, ``user_agent="..."`` for ``user-agent``)."""
    root = rx.State(_reflex_internal_init=True)
    root.router = router_data(path, cookie=cookie, query=query, headers={
        key.replace("_", "-"): str(value) for key, value in headers.items()})
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    assert isinstance(state, cls)
    return state
