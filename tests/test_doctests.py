"""Every documented example runs: the ``>>>`` lines of our docstrings are doctests.

Modules are found by their source (any ``>>>``), so a new example is checked without
anyone listing it; an example that no longer matches what the code returns fails here.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.test_layout import FILES

WITH_EXAMPLES = sorted(module for module, path in FILES.items() if ">>> " in path.read_text())


def test_the_analytics_examples_are_found() -> None:
    assert {"analytics.stats", "analytics.experiments", "analytics.metrics",
            "analytics.dashboard", "analytics.ingest", "portal_app.money"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_documented_examples_hold(module: str) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [test for test in doctest.DocTestFinder().find(importlib.import_module(module))
             if test.examples]
    assert tests, f"{module} has '>>> ' in its source but no doctest was found"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {module}"
