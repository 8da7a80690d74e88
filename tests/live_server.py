"""Pytest plugin: the already built app served for real, and Chromium to drive it.

Enable it in tests/conftest.py with ``pytest_plugins = ["tests.live_server"]``.

Fixtures:

* ``live_server`` (session): serves the production build in ``.web/`` exactly as
  ``make run`` does (granian, no recompile), on the origin the build was made for
  (``PORTICO_PUBLIC_URL`` at build time, ``http://localhost:3000`` by default), with
  this process's environment (DATABASE_URL, REDIS_URL, ... pass through; the database
  must already be migrated). Yields the base URL, e.g. ``"http://localhost:3000"``.
  It fails at once if the build is missing (run ``make build``) or the port is taken.
* ``browser`` (session): Debian's Chromium (/usr/bin/chromium) through Playwright.
* ``context`` / ``page`` (function): a fresh browser context whose ``base_url`` is the
  live server, so ``page.goto("/portal/")`` works. A failing test leaves a screenshot
  in ``screenshots/``; a Content-Security-Policy violation on the page fails the test.

The frontend's websocket URL (host and port) is baked in at build time, so the same
build cannot be served on another port: the server always uses the build's port.
Do not run browser tests under pytest-xdist (every worker would want that port).
Environment knobs: PORTICO_LIVE_SERVER_WORKERS (default 1, needs REDIS_URL for more),
PORTICO_LIVE_SERVER_TIMEOUT (seconds to wait for the first answer, default 60),
PORTICO_CHROMIUM (browser executable, default /usr/bin/chromium).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / ".web"
CLIENT_DIR = WEB_DIR / "build" / "client"
APP_TARGET = "portal_app.portal_app:app"
CHROMIUM = os.environ.get("PORTICO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Serve the compiled frontend from the backend and skip Reflex's compile step.
# The two __REFLEX_* variables are Reflex internals: reflex is pinned to 0.10.1.
SERVE_ENV = {
    "REFLEX_ENV_MODE": "prod",
    "__REFLEX_SKIP_COMPILE": "true",
    "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",
}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}
SCREENSHOT_DIR = ROOT / "screenshots"


class LiveServerError(RuntimeError):
    """The built app cannot be served."""


def built_base_url() -> str:
    """The origin the frontend build talks to (scheme://host:port), read from the bundle."""
    if not CLIENT_DIR.is_dir():
        raise LiveServerError(
            f"No frontend build in {CLIENT_DIR.relative_to(ROOT)}: run `make build` first."
        )
    ping_url = None
    bundles = sorted(
        (CLIENT_DIR / "assets").glob("reflex-env-*.js"), key=lambda p: p.stat().st_mtime
    )
    if bundles:
        match = re.search(r"PING:\s*[`\"']([^`\"']+)[`\"']", bundles[-1].read_text())
        if match:
            ping_url = match.group(1)
    if ping_url is None and (WEB_DIR / "env.json").is_file():
        ping_url = json.loads((WEB_DIR / "env.json").read_text()).get("PING")
    if not ping_url:
        raise LiveServerError(
            "Cannot tell which URL the frontend build was made for (no reflex-env bundle "
            "in .web/build/client/assets): run `make build`."
        )
    parts = urlsplit(ping_url)
    return f"{parts.scheme}://{parts.netloc}"


def _port_in_use(port: int) -> bool:
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Like granian: TIME_WAIT leftovers of a previous server must not count as taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class LiveServer:
    """One granian process serving the built app; use as a context manager."""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.base_url = built_base_url()
        parts = urlsplit(self.base_url)
        if parts.scheme != "http" or (parts.hostname or "") not in LOCAL_HOSTS:
            raise LiveServerError(
                f"The frontend was built for {self.base_url}, which cannot be served here: "
                "rebuild for a local address with `make build` (PORTICO_PUBLIC_URL unset "
                "or http://localhost:PORT)."
            )
        self.port = parts.port or 80
        self.env = dict(os.environ if env is None else env)
        self.env.update(SERVE_ENV)
        # Links the app generates (portal session URLs, ...) point at this server.
        self.env["PORTICO_PUBLIC_URL"] = self.base_url
        self.workers = int(self.env.get("PORTICO_LIVE_SERVER_WORKERS", "1"))
        self.timeout = float(self.env.get("PORTICO_LIVE_SERVER_TIMEOUT", "60"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if _port_in_use(self.port):
            raise LiveServerError(
                f"Port {self.port} is taken (is `make run` or another test run serving?). "
                f"The frontend build is bound to {self.base_url}: stop whatever listens on "
                f"port {self.port}, or rebuild for another port with "
                f"`make build PORT=<port>` (PORTICO_PUBLIC_URL=http://localhost:<port>)."
            )
        command = [
            sys.executable, "-m", "granian",
            "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", str(self.workers),
            APP_TARGET,
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended as a whole
            )
        deadline = time.monotonic() + self.timeout
        ping = f"http://127.0.0.1:{self.port}/ping"
        while not _answers(ping):
            if self.proc.poll() is not None:
                raise LiveServerError(
                    f"The app server exited with code {self.proc.returncode} before answering."
                    f"\nLog ({self.log_path}):\n{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LiveServerError(
                    f"The app server did not answer {ping} within {self.timeout:.0f} s."
                    f"\nLog ({self.log_path}):\n{_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the built app, served for the whole session."""
    log_path = tmp_path_factory.mktemp("live_server") / "server.log"
    problem = None
    try:
        server = LiveServer(log_path)
        server.start()
    except LiveServerError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: `make test` installs Debian's chromium "
            "(apt-get install -y chromium).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context (own cookies) with base_url set to the live server."""
    ctx = browser.new_context(base_url=live_server)
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh context; screenshot in screenshots/ when the test fails.

    The test errors if Chromium reports a Content-Security-Policy violation (other
    than a refused frame: framing the portal is refused on purpose): the policy must
    allow everything the compiled pages really do.
    """
    pg = context.new_page()
    blocked: list[str] = []
    pg.on("console", lambda message: blocked.append(message.text)
          if "Content Security Policy" in message.text
          and "frame-ancestors" not in message.text else None)
    yield pg
    report = getattr(request.node, "_live_server_call_report", None)
    if report is not None and report.failed:
        SCREENSHOT_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
    if blocked:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(blocked), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item._live_server_call_report = report  # type: ignore[attr-defined]
    return report
