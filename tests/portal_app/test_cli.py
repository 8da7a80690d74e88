"""The ``portico`` command line on its own SQLite file: migrate, seed, demo-info, advance-clock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal_app.accounts import services as accounts
from portal_app.cli import main
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import AuthenticationFailed
from portal_app.portal import sessions
from portal_app.seed import DEMO_EMAIL
from portal_app.settings import get_settings


def printed(label: str, out: str) -> str:
    """The value printed on the ``label`` row."""
    match = re.search(rf"^\s*{re.escape(label)}\s+(\S+)\s*$", out, re.MULTILINE)
    assert match, f"no {label!r} row in:\n{out}"
    return match.group(1)


def signs_in(url: str, password: str) -> bool:
    try:
        accounts.sign_in(email=DEMO_EMAIL, password=password, uow=UnitOfWork(get_engine(url)))
    except AuthenticationFailed:
        return False
    return True


def test_cli_migrate_seed_and_demo_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out

    assert main(["--database-url", url, "seed"]) == 0
    out = capsys.readouterr().out
    assert "Seeded Northwind Analytics" in out
    assert re.search(r"customers\s+50", out)
    assert "trialing" in out and "past due" in out and "canceled" in out
    key, password = printed("API secret key", out), printed("console password", out)
    engine = get_engine(url)
    account_id = accounts.authenticate_key(key, uow=UnitOfWork(engine))
    assert signs_in(url, password)

    assert main(["--database-url", url, "seed"]) == 0
    out = capsys.readouterr().out
    assert "already exists" in out and key not in out and password not in out

    assert main(["--database-url", url, "demo-info"]) == 0
    out = capsys.readouterr().out
    settings = get_settings()
    assert key not in out and password not in out  # shown once, at the seed
    assert f"{key[:8]}…{key[-4:]}" in out and "--rotate" in out
    assert f"{settings.public_url}/console" in out
    assert DEMO_EMAIL in out
    assert "5 minutes" in out
    links = re.findall(rf"{re.escape(settings.public_url)}/p/([A-Za-z0-9_-]+)", out)
    assert len(links) == 1
    opened = sessions.open_session(links[0], browser_secret=None,
                                   uow=UnitOfWork(get_engine(url)))
    assert opened.browser_secret  # first open binds this browser

    # Each call prints a new link; the first one stays bound to its browser.
    assert main(["--database-url", url, "demo-info"]) == 0
    second = re.findall(r"/p/([A-Za-z0-9_-]+)", capsys.readouterr().out)
    assert second and second[0] != links[0]

    # --rotate: a new key and password, printed once; the old ones stop working.
    assert main(["--database-url", url, "demo-info", "--rotate"]) == 0
    out = capsys.readouterr().out
    new_key, new_password = printed("API secret key", out), printed("password", out)
    assert new_key != key and new_password != password
    assert accounts.authenticate_key(new_key, uow=UnitOfWork(engine)) == account_id
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_key(key, uow=UnitOfWork(engine))
    assert signs_in(url, new_password) and not signs_in(url, password)


def test_cli_errors_are_short_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    capsys.readouterr()
    assert main(["--database-url", url, "demo-info"]) == 1
    assert "portico seed" in capsys.readouterr().err
    assert main(["--database-url", url, "advance-clock", "--to", "2030-01-01"]) == 1
    with pytest.raises(SystemExit):
        main(["--database-url", url, "advance-clock", "--to", "tomorrow"])
