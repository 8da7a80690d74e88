"""Sealing: secrets at rest open only under the server key and with their own context."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal_app import sealing
from portal_app.sealing import SealedSecretError, seal, unseal


def test_a_sealed_secret_opens_only_with_its_context() -> None:
    sealed = seal("sk_test_abc", context="acct_1:stripe_secret_key")
    assert b"sk_test_abc" not in sealed
    assert unseal(sealed, context="acct_1:stripe_secret_key") == "sk_test_abc"
    with pytest.raises(SealedSecretError):
        unseal(sealed, context="acct_2:stripe_secret_key")


def test_the_server_key_comes_from_the_environment_or_a_generated_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTICO_SECRET_KEY", raising=False)
    key_file = tmp_path / "key"
    monkeypatch.setenv("PORTICO_SECRET_KEY_FILE", str(key_file))
    first = sealing.server_key()
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    sealing.derive_server_key.cache_clear()  # a new process reads the same file
    assert sealing.server_key() == first
    monkeypatch.setenv("PORTICO_SECRET_KEY", "k" * 40)
    assert sealing.server_key() not in (first,) and len(sealing.server_key()) == 32
    monkeypatch.setenv("PORTICO_SECRET_KEY", "short")
    with pytest.raises(ValueError):
        sealing.server_key()
