"""Runtime settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What an operator configures through environment variables."""

    database_url: str
    public_url: str
    redis_url: str | None
    demo_secret_key: str

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
        demo_secret_key=os.environ.get("PORTICO_DEMO_SECRET_KEY", "sk_test_portico_demo_0123456789abcdef"),
    )
