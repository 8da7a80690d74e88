"""Runtime settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What an operator configures through environment variables."""

    database_url: str
    public_url: str
    redis_url: str | None
    demo_secret_key: str | None  # None: the demo seed generates one (and prints it once)
    # The served app delivers webhooks itself unless PORTICO_WEBHOOKS_WORKER=0 (separate
    # `portico webhooks-worker` processes then do it).
    webhooks_worker: bool = True
    # PORTICO_BILLING: "local" (the demo bills on Portico's ledger) or "stripe" (`portico
    # seed` connects the demo account to the Stripe account of STRIPE_SECRET_KEY).
    billing: str = "local"
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None  # None: Stripe itself; tests and fakes set theirs

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag whenever the portal is served over https."""
        return self.public_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, with the embedded defaults (SQLite, localhost:3000)."""
    return Settings(
        database_url=os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'portico.db'}"),
        public_url=os.environ.get("PORTICO_PUBLIC_URL", "http://localhost:3000").rstrip("/"),
        redis_url=os.environ.get("REDIS_URL") or None,
        demo_secret_key=os.environ.get("PORTICO_DEMO_SECRET_KEY") or None,
        webhooks_worker=os.environ.get("PORTICO_WEBHOOKS_WORKER", "1").strip().lower()
        not in ("0", "false", "no", "off"),
        billing=billing_kind(os.environ.get("PORTICO_BILLING", "")),
        stripe_secret_key=os.environ.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
    )


def billing_kind(value: str) -> str:
    """PORTICO_BILLING's value: ``local`` (also when unset) or ``stripe``."""
    kind = value.strip().lower() or "local"
    if kind not in ("local", "stripe"):
        raise ValueError(f"PORTICO_BILLING must be local or stripe, not {value!r}")
    return kind


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def public_origins(public_url: str) -> list[str]:
    """The origins a browser may reach Portico at: the public URL's (``scheme://host:port``).

    A localhost build also answers on the other loopback names with the same port
    (its frontend talks to whichever host the page came from).
    """
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return [origin]
    port = f":{parts.port}" if parts.port else ""
    return [origin, *(f"{parts.scheme}://{host}{port}" for host in LOOPBACK_HOSTS
                      if f"{parts.scheme}://{host}{port}" != origin)]
