"""Where a webhook may be sent: URL rules, and no private networks in live mode.

An endpoint URL is absolute ``https``; plain ``http`` only to a loopback host
in test mode (a developer's local listener). A live-mode endpoint (created
with an ``sk_live_`` key) must reach the public internet: a host that resolves
to a private, loopback, link-local (the cloud metadata service at
169.254.169.254), shared, reserved, multicast or unspecified address is
refused. :func:`check_destination` returns the address it checked, and the
sender connects to exactly that address (sending the hostname as Host and TLS
server name), so a DNS answer that changes between the check and the
connection cannot redirect a delivery inside the network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from portal_app.errors import InvalidRequest

MAX_URL_LENGTH = 5000
LOOPBACK_NAMES = ("localhost",)
PUBLIC_ONLY = ("Invalid URL: URL must be publicly accessible. Consider using a tool like "
               "the Stripe CLI to test webhooks locally.")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="url", code="url_invalid")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback_host(host: str) -> bool:
    literal = _literal(host)
    return host.lower() in LOOPBACK_NAMES or (literal is not None and literal.is_loopback)


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet (an IPv4-mapped IPv6 as its IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, *, livemode: bool) -> str:
    """The hostname of a well-formed endpoint ``url``. Raises InvalidRequest (param url).

    No DNS here: :func:`check_destination` resolves.
    """
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"Invalid URL: must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise _invalid(f"Invalid URL: {url[:100]}") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url):
        raise _invalid(f"Invalid URL: {url[:100]}. URLs must be absolute and begin with "
                       "https://")
    if parts.username is not None or parts.password is not None:
        raise _invalid("Invalid URL: URLs must not contain credentials")
    if parts.scheme == "http" and (livemode or not _is_loopback_host(host)):
        raise _invalid("Invalid URL: URLs must begin with https:// (plain http only to "
                       "localhost in test mode)")
    literal = _literal(host)
    if livemode and (host.lower() in LOOPBACK_NAMES
                     or (literal is not None and not is_public(literal))):
        raise _invalid(PUBLIC_ONLY)
    return host


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to. Raises InvalidRequest when it resolves to none."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _invalid(f"Invalid URL: the host {host[:100]} does not resolve") from None
    out: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in out:
            out.append(address)
    if not out:
        raise _invalid(f"Invalid URL: the host {host[:100]} does not resolve")
    return out


def check_destination(url: str, *, livemode: bool) -> str:
    """The IP address to connect to for ``url``, checked. Raises InvalidRequest (param url).

    Live mode refuses the URL when ANY address its host resolves to is not public
    (a name with one public and one private answer is refused, not filtered).
    """
    host = check_url(url, livemode=livemode)
    parts = urlsplit(url)
    addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    if livemode and not all(is_public(a) for a in addresses):
        raise _invalid(PUBLIC_ONLY)
    return str(addresses[0])
