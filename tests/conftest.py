"""Shared pytest configuration: the lab fixtures (`lab000`, `start_lab_from`)."""

import os

import pytest

pytest_plugins = ["tests.labfixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """Tests see the environment of a piped user run: pytest-xdist's workers export
    COLUMNS=80 and LINES=24, which would narrow every CLI's output."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
