"""The statistics benchmark drives the real wait loop with simulated answers: it
must keep up with the probes' data types (it is not run by CI otherwise)."""

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def fig_stats(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("fig_stats")
    yield module
    sys.modules.pop("fig_stats", None)


def test_simulated_correct_waits_pass(fig_stats) -> None:  # type: ignore[no-untyped-def]
    """Five simulated 50/50 waits through probes.wait_loop: each converges within."""
    failed, used = fig_stats.false_fails(5)
    assert failed == 0
    assert len(used) == 5
    assert min(used) >= 150  # three batches of 50 at least
