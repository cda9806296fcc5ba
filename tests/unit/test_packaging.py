"""The lock files, the image and the manifest agree with pyproject.toml."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import chaosext
from chaosext.gameday import manifest

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pins(lock: str) -> dict[str, str]:
    """`name==version` lines of a pip-compile lock file, by canonical name."""
    pins = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def _requirements(extra: str | None) -> list[Requirement]:
    project = _pyproject()["project"]
    names = list(project["dependencies"])
    if extra:
        names += project["optional-dependencies"][extra]
    return [Requirement(text) for text in names]


@pytest.mark.parametrize(
    ("lock", "extra"),
    [("requirements.lock", None), ("requirements-test.lock", "test")],
)
def test_lock_pins_every_requirement_within_its_bounds(
    lock: str, extra: str | None
) -> None:
    """Each pyproject requirement is pinned in the lock, at a version it allows."""
    pins = _pins(lock)
    wrong = []
    for requirement in _requirements(extra):
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, True):
            wrong.append(f"{requirement} (locked: {pinned})")
    assert not wrong, f"{lock} is stale, run scripts/lock: {wrong}"


def _direct(lock: str) -> set[str]:
    """Pins the lock holds for meshdrill itself (pip-compile's `via` comment)."""
    direct, current = set(), None
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==", line)
        if match:
            current = canonicalize_name(match[1])
        elif current and "meshdrill (pyproject.toml)" in line:
            direct.add(current)
    return direct


@pytest.mark.parametrize(
    ("lock", "extra"),
    [("requirements.lock", None), ("requirements-test.lock", "test")],
)
def test_lock_holds_exactly_the_requirements_of_its_set(
    lock: str, extra: str | None
) -> None:
    """The image's lock was compiled from the runtime set alone (no test tool is
    there on meshdrill's account), the test lock from runtime plus test."""
    wanted = {canonicalize_name(r.name) for r in _requirements(extra)}
    assert _direct(lock) == wanted


def test_containerfile_installs_from_the_lock_as_the_manifest_expects() -> None:
    """The image installs the runtime lock, is tagged as the manifest says, and
    runs as the manifest's non-root user."""
    text = (ROOT / "Containerfile").read_text()
    assert re.search(r"pip install --no-deps -r requirements\.lock", text)
    version = re.search(r"ARG MESHDRILL_VERSION=(\S+)", text)
    assert version, "Containerfile: no ARG MESHDRILL_VERSION"
    assert version[1] == chaosext.__version__
    assert manifest.ManifestOptions.image == f"meshdrill:{chaosext.__version__}"
    assert f"meshdrill:{chaosext.__version__}" in text
    user = re.search(r"^USER (\d+)$", text, re.MULTILINE)
    spec = manifest._pod_spec("drills", "file", manifest.ManifestOptions())
    assert user, "Containerfile: no numeric USER"
    assert int(user[1]) == spec["securityContext"]["runAsUser"]


def test_ci_installs_from_the_test_lock() -> None:
    """scripts/test builds its environment from requirements-test.lock."""
    script = (ROOT / "scripts" / "test").read_text()
    assert "-r requirements-test.lock" in script
