"""The contract itself: every method names its Stripe call, is implemented, and is tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from portal_app.billing.provider import BillingProvider
from portal_app.billing.providers.local import LocalBillingProvider

METHODS = sorted(name for name, _ in inspect.getmembers(BillingProvider, inspect.isfunction)
                 if not name.startswith("_"))
SUITE = "\n".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py")
                  if path.name != Path(__file__).name)


def test_the_contract_has_methods() -> None:
    assert len(METHODS) > 20


@pytest.mark.parametrize("name", METHODS)
def test_each_method_names_the_stripe_call_that_implements_it(name: str) -> None:
    doc = inspect.getdoc(getattr(BillingProvider, name)) or ""
    # "Stripe: `POST /v1/...`" or the SDK's service call, e.g. subscriptions.update
    assert "Stripe" in doc and re.search(r"/v1/|\w+\.\w+", doc), doc


@pytest.mark.parametrize("name", METHODS)
def test_the_local_provider_implements_each_method_with_its_signature(name: str) -> None:
    declared = inspect.signature(getattr(BillingProvider, name))
    implemented = inspect.signature(getattr(LocalBillingProvider, name))
    assert list(implemented.parameters) == list(declared.parameters)
    for param in declared.parameters.values():
        assert implemented.parameters[param.name].kind == param.kind
        assert implemented.parameters[param.name].default == param.default


@pytest.mark.parametrize("name", METHODS)
def test_the_suite_calls_each_method(name: str) -> None:
    assert re.search(rf"\.{name}\(", SUITE), f"no contract test calls {name}"
