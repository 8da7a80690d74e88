"""POST one signed event to a merchant's endpoint, and say what happened.

Rules of a webhook POST (Stripe's, and what a careful sender adds):

* ``Content-Type: application/json; charset=utf-8``, ``Stripe-Signature``, a Portico
  ``User-Agent`` that names Stripe's webhooks (receivers that log it know what it is);
* success is a 2xx within ``timeout`` seconds (10 by default), response body included;
* redirects are not followed: a 3xx is a failed attempt;
* at most :data:`RESPONSE_EXCERPT_LIMIT` bytes of the response body are read (kept as the
  attempt's excerpt); a longer body closes the connection rather than being drained;
* the TCP connection goes to the address :func:`~portal_app.webhooks.addresses.check_destination`
  resolved and checked, never to a second DNS answer: the URL's host name still goes out
  in the ``Host`` header, TLS SNI and certificate check, so DNS rebinding cannot switch
  the destination after the check.

The client is a small HTTP/1.1 one on asyncio's transports (plain or TLS): a webhook POST
needs no cookies, redirects, proxies or compression, and a general client (aiohttp, httpx)
spends several times more CPU per request building what it does not need — at thousands
of deliveries a second that is the worker's budget. Connections are kept alive in one
pool per (address, scheme, host, port) and reused across deliveries.
"""

from __future__ import annotations

import asyncio
import errno
import re
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

from portal_app.webhooks.models import RESPONSE_EXCERPT_LIMIT

USER_AGENT = "Portico/1.0 (Stripe-compatible webhooks; +https://stripe.com/docs/webhooks)"
DEFAULT_TIMEOUT = 10.0  # seconds: Stripe's, for the whole exchange
MAX_POOLS = 512  # destinations kept; the least recently used idle ones are closed past it
MAX_IDLE_PER_POOL = 64  # idle keep-alive connections kept per destination
IDLE_SECONDS = 30.0  # an idle connection older than this is closed, not reused
MAX_HEADER_BYTES = 64 * 1024

ERROR_TIMEOUT = "timeout"
ERROR_REFUSED = "connection refused"
ERROR_REDIRECT = "redirect not followed"
ERROR_CLOSED = "connection closed without a response"


@dataclass(frozen=True)
class Outcome:
    """What one POST got: a status (or none) and an error (or none), timed."""

    http_status: int | None
    error: str | None
    latency_ms: int
    response_excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        """A 2xx answer: the endpoint has the event."""
        return self.error is None and self.http_status is not None and \
            200 <= self.http_status < 300


class InvalidResponse(Exception):
    """The endpoint answered something that is not HTTP/1.x."""


def excerpt_of(body: bytes) -> str:
    """The stored form of a response body's first bytes (text; PostgreSQL refuses NUL)."""
    return body[:RESPONSE_EXCERPT_LIMIT].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def describe_error(error: BaseException) -> str:
    """A short, stable description of why a POST got no answer."""
    if isinstance(error, TimeoutError):
        return ERROR_TIMEOUT
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"tls certificate rejected: {error.verify_message}"[:200]
    if isinstance(error, ssl.SSLError):
        return "tls handshake failed"
    if isinstance(error, ConnectionRefusedError) or getattr(error, "errno", None) == \
            errno.ECONNREFUSED:
        return ERROR_REFUSED
    if isinstance(error, (ConnectionResetError, BrokenPipeError, EOFError)):
        return ERROR_CLOSED
    if isinstance(error, InvalidResponse):
        return f"invalid response: {error}"[:200]
    if isinstance(error, OSError):
        return f"connection failed: {error.strerror or type(error).__name__}"[:200]
    return f"{type(error).__name__}: {error}"[:200]


@dataclass(frozen=True)
class Request:
    """A POST's wire form and where it goes."""

    scheme: str
    host: str  # the URL's host name: SNI and certificate check
    port: int
    head: bytes  # request line and headers, up to the blank line

    @classmethod
    def build(cls, url: str, *, payload: bytes, headers: dict[str, str]) -> Request:
        """Raises ValueError for a URL that cannot be sent to."""
        scheme, host, port, start = _request_start(url)
        if any(_CONTROL.search(value) for value in headers.values()):
            raise ValueError("a header value holds a control character")
        lines = [start, *(f"{name}: {value}" for name, value in headers.items()),
                 f"Content-Length: {len(payload)}", "Connection: keep-alive", "", ""]
        return cls(scheme, host, port, "\r\n".join(lines).encode("latin-1"))


_CONTROL = re.compile("[\r\n\0]")


@lru_cache(maxsize=4096)
def _request_start(url: str) -> tuple[str, str, int, str]:
    """Scheme, ASCII host, port, and the request and ``Host`` lines of a POST to ``url``.

    Parsed once per URL (a worker sends to the same few URLs thousands of times).
    Raises ValueError for a URL that cannot be sent to.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or _CONTROL.search(url):
        raise ValueError(f"not a URL to POST to: {url[:100]}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ascii_host = host.encode("idna").decode() if not host.isascii() else host
    authority = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if parts.port is not None:
        authority += f":{parts.port}"
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return parts.scheme, ascii_host, port, f"POST {target} HTTP/1.1\r\nHost: {authority}"


class _Response:
    """An HTTP/1.x response parsed as it arrives, its body kept up to the excerpt limit."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.body = bytearray()
        self.reusable = False
        self._mode = ""  # "length", "chunked", "close"
        self._remaining = 0
        self._chunk_left = -1  # -1: expecting a chunk-size line

    def feed(self, buffer: bytearray, *, eof: bool) -> bool:
        """Consume from ``buffer``; whether the response is complete (or capped)."""
        while self.status is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEADER_BYTES:
                    raise InvalidResponse("response headers too large")
                if eof:
                    raise EOFError("closed before the headers")
                return False
            head = bytes(buffer[:end]).decode("latin-1")
            del buffer[:end + 4]
            self._start(head)
        if self._mode == "length":
            take = min(self._remaining, len(buffer), RESPONSE_EXCERPT_LIMIT - len(self.body))
            self.body += buffer[:take]
            del buffer[:take]
            self._remaining -= take
            if self._remaining == 0:
                return True
            if len(self.body) >= RESPONSE_EXCERPT_LIMIT:
                self.reusable = False  # the rest is not read: the connection is dropped
                return True
            if eof:
                raise EOFError("closed mid-body")
            return False
        if self._mode == "chunked":
            return self._feed_chunked(buffer, eof=eof)
        take = min(len(buffer), RESPONSE_EXCERPT_LIMIT - len(self.body))
        self.body += buffer[:take]
        del buffer[:take]
        return eof or len(self.body) >= RESPONSE_EXCERPT_LIMIT

    def _start(self, head: str) -> None:
        lines = head.split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise InvalidResponse(lines[0][:80])
        status = int(code)
        if 100 <= status < 200:
            return  # an interim response (100 Continue, 103): the real one follows
        fields: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise InvalidResponse("malformed header line")
            fields[name.strip().lower()] = value.strip().lower()
        connection = fields.get("connection", "")
        keep_alive = ("close" not in connection if version == "HTTP/1.1"
                      else "keep-alive" in connection)
        self.status = status
        if status in (204, 304):
            self._mode, self._remaining = "length", 0
        elif "chunked" in fields.get("transfer-encoding", ""):
            self._mode = "chunked"
        elif fields.get("content-length", "").isdigit():
            self._mode, self._remaining = "length", int(fields["content-length"])
        else:
            self._mode, keep_alive = "close", False
        self.reusable = keep_alive

    def _feed_chunked(self, buffer: bytearray, *, eof: bool) -> bool:
        while True:
            if len(self.body) >= RESPONSE_EXCERPT_LIMIT:
                self.reusable = False
                return True
            if self._chunk_left == -1:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if eof:
                        raise EOFError("closed mid-body")
                    return False
                size = bytes(buffer[:end]).split(b";")[0].strip()
                del buffer[:end + 2]
                try:
                    self._chunk_left = int(size, 16)
                except ValueError:
                    raise InvalidResponse("malformed chunk size") from None
                if self._chunk_left == 0:
                    self._chunk_left = -2  # the trailers, up to a blank line
            if self._chunk_left == -2:
                end = buffer.find(b"\r\n")
                if end < 0:
                    return eof
                line_empty = end == 0
                del buffer[:end + 2]
                if line_empty:
                    return True
                continue
            take = min(self._chunk_left, len(buffer))
            keep = min(take, RESPONSE_EXCERPT_LIMIT - len(self.body))
            self.body += buffer[:keep]
            del buffer[:take]
            self._chunk_left -= take
            if self._chunk_left == 0:
                if len(buffer) < 2:
                    self._chunk_left = 0
                    if eof:
                        raise EOFError("closed mid-body")
                    return False
                del buffer[:2]
                self._chunk_left = -1
            elif eof:
                raise EOFError("closed mid-body")
            else:
                return False


class _Connection(asyncio.Protocol):
    """One keep-alive connection: a request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.eof = False
        self.idle_since = time.monotonic()
        self._response: _Response | None = None
        self._waiter: asyncio.Future[_Response] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._progress()

    def eof_received(self) -> bool:
        self.eof = True
        self._progress()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.eof = True
        if self._waiter is not None and not self._waiter.done():
            if exc is not None:
                self._waiter.set_exception(exc)
            else:
                self._progress()

    def _progress(self) -> None:
        waiter, response = self._waiter, self._response
        if waiter is None or response is None or waiter.done():
            return
        try:
            if response.feed(self.buffer, eof=self.eof):
                waiter.set_result(response)
        except (InvalidResponse, EOFError) as error:
            waiter.set_exception(error)

    async def exchange(self, data: bytes) -> _Response:
        assert self.transport is not None
        self._response = _Response()
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        self._progress()  # bytes may have arrived (or the peer closed) already
        return await self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


PoolKey = tuple[str, str, str, int]  # address, scheme, host, port


class Sender:
    """Sends webhook POSTs over keep-alive connections, pooled per destination.

    Use inside one event loop; :meth:`close` (or ``async with``) closes the connections.
    ``timeout`` bounds each whole exchange, connection and response body included.
    ``ssl_context`` verifies endpoint certificates (tests pass one that trusts their CA).
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, user_agent: str = USER_AGENT,
                 ssl_context: ssl.SSLContext | None = None, max_pools: int = MAX_POOLS) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.max_pools = max_pools
        self._idle: OrderedDict[PoolKey, list[_Connection]] = OrderedDict()

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def post(self, url: str, *, address: str, payload: bytes, signature: str) -> Outcome:
        """POST ``payload`` to ``url`` over a connection to ``address``; never raises for
        anything the endpoint does (no answer, a slow one, a malformed one)."""
        started = time.monotonic()
        try:
            request = Request.build(url, payload=payload, headers={
                "User-Agent": self.user_agent,
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "Accept": "*/*; q=0.5, application/json",
                "Cache-Control": "no-cache",
            })
        except ValueError as error:  # UnicodeError (a bad IDNA name) included
            return Outcome(http_status=None, error=f"invalid URL: {error}"[:200],
                           latency_ms=_ms_since(started))
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._exchange(address, request, request.head + payload)
        except (OSError, TimeoutError, EOFError, InvalidResponse) as error:
            # ssl.SSLError is an OSError (and certificate errors are ValueErrors too).
            return Outcome(http_status=None, error=describe_error(error),
                           latency_ms=_ms_since(started))
        status = response.status
        assert status is not None
        return Outcome(http_status=status, error=ERROR_REDIRECT if 300 <= status < 400 else None,
                       latency_ms=_ms_since(started), response_excerpt=excerpt_of(bytes(response.body)))

    async def _exchange(self, address: str, request: Request, data: bytes) -> _Response:
        key: PoolKey = (address, request.scheme, request.host, request.port)
        connection = self._take_idle(key)
        if connection is not None:
            try:
                response = await self._send(connection, data)
            except (ConnectionResetError, BrokenPipeError, EOFError):
                # The server closed the kept-alive connection before reading this request
                # (it got no byte of an answer): send it once more on a fresh connection.
                connection.close()
                connection = None
            else:
                self._release(key, connection, response)
                return response
        connection = await self._connect(address, request)
        try:
            response = await self._send(connection, data)
        except BaseException:
            connection.close()
            raise
        self._release(key, connection, response)
        return response

    async def _send(self, connection: _Connection, data: bytes) -> _Response:
        try:
            return await connection.exchange(data)
        except BaseException:
            connection.close()  # timed out or failed mid-exchange: never reused
            raise

    async def _connect(self, address: str, request: Request) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = request.scheme == "https"
        _, connection = await loop.create_connection(
            _Connection, host=address, port=request.port,
            ssl=self.ssl_context if tls else None,
            server_hostname=request.host if tls else None)
        return connection

    def _take_idle(self, key: PoolKey) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if (connection.closed or connection.eof or connection.buffer
                    or now - connection.idle_since > IDLE_SECONDS):
                connection.close()
                continue
            return connection
        return None

    def _release(self, key: PoolKey, connection: _Connection, response: _Response) -> None:
        if not response.reusable or connection.closed or connection.buffer:
            connection.close()
            return
        idle = self._idle.setdefault(key, [])
        self._idle.move_to_end(key)
        if len(idle) >= MAX_IDLE_PER_POOL:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)
        while len(self._idle) > self.max_pools:
            _, oldest = self._idle.popitem(last=False)
            for stale in oldest:
                stale.close()

    async def close(self) -> None:
        """Close every pooled connection."""
        pools, self._idle = list(self._idle.values()), OrderedDict()
        for pool in pools:
            for connection in pool:
                connection.close()
        await asyncio.sleep(0)  # let the transports finish closing


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
