"""Fixtures of the State tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal_app.db import UnitOfWork
from portal_app.state import portal as portal_state


@pytest.fixture
def portal_database(monkeypatch: pytest.MonkeyPatch, make_uow: Callable[[], UnitOfWork]
                    ) -> None:
    """Portal handlers run on the test database and the frozen clock."""
    monkeypatch.setattr(portal_state, "unit_of_work", make_uow)
