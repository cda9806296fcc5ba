"""Shared pytest configuration: the lab fixtures (`lab000`, `start_lab_from`)."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests assert behaviour, never speed: Hypothesis' default 200 ms deadline
# per example (and its too-slow health check) turn a loaded CI machine into a red
# build. On CI the examples are derandomized, so a failure there is reproducible.
settings.register_profile(
    "meshdrill",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("CI") == "true",
)
settings.load_profile("meshdrill")

pytest_plugins = ["tests.labfixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """Tests see the environment of a piped user run: pytest-xdist's workers export
    COLUMNS=80 and LINES=24, which would narrow every CLI's output."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
