"""The ``portico`` command line on its own SQLite file: migrate, seed, demo-info, advance-clock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal_app.cli import main
from portal_app.db import UnitOfWork, get_engine
from portal_app.portal import sessions
from portal_app.seed import DEMO_EMAIL, DEMO_PASSWORD
from portal_app.settings import get_settings


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

    assert main(["--database-url", url, "seed"]) == 0
    assert "already exists" in capsys.readouterr().out

    assert main(["--database-url", url, "demo-info"]) == 0
    out = capsys.readouterr().out
    settings = get_settings()
    assert settings.demo_secret_key in out
    assert f"{settings.public_url}/console" in out
    assert DEMO_EMAIL in out and DEMO_PASSWORD in out
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
