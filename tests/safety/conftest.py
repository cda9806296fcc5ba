"""Fixtures of the safety tests: detached labs from fast variants of guide 000."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from chaosext.lab import runtime
from tests.safety import labs


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[runtime.LabInfo]:
    """A detached guide-000 lab (fast timing) of this test alone."""
    info = labs.start(tmp_path)
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    """A detached guide-000 lab for a module whose tests leave it as they found it."""
    info = labs.start(tmp_path_factory.mktemp("shared"))
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)
