"""localstripe, the stateful fake Stripe server, started on loopback for tests and benchmarks.

The stock ``localstripe`` command listens on every interface and rewrites a pickle
with a fixed name in the system temp folder after every change, so parallel
servers share (and slow down on) one file. Here the pickle is switched off and the
aiohttp app is served on a socket bound to ``127.0.0.1``: each server is private
and keeps its data in memory only.

Two ways to start it:

- :func:`start_process` runs it in a child Python process (its own GIL: what a
  benchmark wants), ``python -m portal_app.testing.localstripe`` underneath;
- :func:`start_thread` runs it on an event loop in a daemon thread of this process.

Both return a :class:`LocalStripe` whose ``url`` goes into
``stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=0)``.
Both take ``shim``: the name of a module whose ``install(app)`` is called on
localstripe's aiohttp app before it serves (a test layer in front of it, such as
``tests.localstripe_shim``); None serves localstripe as it is.
localstripe is GPL-3.0 and a dev dependency: it is run, never vendored or shipped.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

READY_TIMEOUT = 20.0


@dataclass
class LocalStripe:
    """A running localstripe: its base URL and how to stop it."""

    url: str
    _stop: Callable[[], None] = field(repr=False)

    def stop(self) -> None:
        """Shut the server down (idempotent)."""
        self._stop()

    def wipe(self) -> None:
        """Delete every object (webhook registrations survive, as in localstripe)."""
        httpx.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def __enter__(self) -> LocalStripe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _without_pickle() -> None:
    from localstripe.resources import Store

    Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _wait_ready(url: str, *, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("localstripe exited before it was ready")
        try:
            # Any HTTP answer (401 without a key) means the server is up.
            httpx.get(f"{url}/v1/customers", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"localstripe did not answer at {url} within {READY_TIMEOUT} s")


def start_process(*, shim: str | None = None) -> LocalStripe:
    """Start localstripe in a child process on a free loopback port (``shim``: see above)."""
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    # The child inherits the bound, listening socket: no window for another process
    # to take the port between choosing and binding it.
    shim_args = ["--shim", shim] if shim else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal_app.testing.localstripe", "--fd", str(sock.fileno()),
         *shim_args],
        pass_fds=[sock.fileno()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    sock.close()
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()

    try:
        _wait_ready(url, alive=lambda: proc.poll() is None)
    except RuntimeError:
        stop()
        raise
    return LocalStripe(url=url, _stop=stop)


def start_thread(*, shim: str | None = None) -> LocalStripe:
    """Start localstripe on an event loop in a daemon thread of this process.

    localstripe keeps its objects in module globals, so one process holds one
    server's data: start at most one per process (use :meth:`LocalStripe.wipe`
    between tests).
    """
    from aiohttp import web

    app = _localstripe_app(shim)
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        started.set()
        loop.run_forever()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:  # webhook deliveries still waiting to be sent
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="localstripe", daemon=True)
    thread.start()
    if not started.wait(READY_TIMEOUT):
        raise RuntimeError("localstripe did not start")

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    return LocalStripe(url=f"http://127.0.0.1:{port}", _stop=stop)


def _localstripe_app(shim: str | None) -> Any:
    """localstripe's aiohttp app, without its pickle, the ``shim`` module installed."""
    _without_pickle()
    from localstripe.server import app

    if shim:
        importlib.import_module(shim).install(app)
    return app


def _serve(fd: int, shim: str | None = None) -> None:
    from aiohttp import web

    app = _localstripe_app(shim)
    sock = socket.socket(fileno=fd)
    web.run_app(app, sock=sock, access_log=None, print=None, handle_signals=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="localstripe on an inherited loopback socket")
    parser.add_argument("--fd", type=int, help="listening socket inherited from the parent")
    parser.add_argument("--port", type=int, default=0, help="bind 127.0.0.1:PORT instead")
    parser.add_argument("--shim", help="module whose install(app) wraps localstripe's app")
    args = parser.parse_args()
    if args.fd is not None:
        _serve(args.fd, args.shim)
    else:
        listener = _loopback_socket()
        print(f"localstripe on http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
        _serve(listener.detach(), args.shim)
