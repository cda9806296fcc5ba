"""The experiment files: rendered from one shape, valid, discoverable."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.loader import load_experiment

import chaosext
from chaosext.lab import topology as lab_topology
from chaosext.mesh import ServiceConfig, router, settings

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
CHAOS = str(Path(sys.executable).with_name("chaos"))


def _render_module():
    spec = importlib.util.spec_from_file_location("render", EXPERIMENTS / "render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RENDERED = _render_module().rendered()


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_each_experiment_file_is_what_the_shared_shape_renders(name: str):
    """Edit experiments/render.py and re-run it; never the JSON alone."""
    assert (EXPERIMENTS / name).read_text() == RENDERED[name]


def test_every_tier_of_the_design_has_an_experiment():
    """The seven tiers of DESIGN s.4, issue 14's three and the conformance drill."""
    assert set(RENDERED) == {
        "region_outage.json",
        "cluster_failover.json",
        "zone_failover.json",
        "zone_outage.json",
        "region_failover.json",
        "waypoint_failover.json",
        "outlier_ejection.json",
        "control_plane_outage.json",
        "slow_upstream.json",
        "eastwest_outage.json",
        "conformance.json",
    }


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_chaoslib_accepts_each_experiment(name: str):
    """The validation `chaos validate` runs, in-process."""
    experiment = load_experiment(str(EXPERIMENTS / name))
    ensure_experiment_is_valid(experiment)


def test_chaos_validate_accepts_an_experiment_from_the_command_line(tmp_path: Path):
    """`chaos validate` as a user runs it (one file: the CLI takes seconds)."""
    proc = subprocess.run(
        [CHAOS, "validate", str(EXPERIMENTS / "zone_outage.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_discovery_lists_every_activity_with_its_documentation():
    """`chaos discover` reads discover(): each activity has a docstring and args."""
    discovered = chaosext.discover(discover_system=False)
    names = {a["name"] for a in discovered["activities"]}
    used = {
        activity["provider"]["func"]
        for text in RENDERED.values()
        for activity in _activities(json.loads(text))
        if activity["provider"]["module"].startswith(("chaosext.actions", "probes"))
    }
    assert used <= names
    for activity in discovered["activities"]:
        assert len((activity["doc"] or "").splitlines()) > 3, activity


def _activities(experiment: dict) -> list[dict]:
    return [
        *experiment["steady-state-hypothesis"]["probes"],
        *experiment["method"],
        *experiment["rollbacks"],
    ]


def test_control_plane_outage_numbers_come_from_guide_000s_mesh():
    """error_budget and failover_deadline are the mesh's, not tuned to pass.

    With istiod down the gateway keeps cluster A's gone pods as healthy endpoints
    and only outlier detection takes them out: each takes `consecutive5xxErrors`
    connect failures, and a request fails only when all its 1 + 2 attempts (Istio's
    default retries) fail, so at most floor(c x n / 3) requests fail. With c = 1 this
    holds at any concurrency: each failure ejects its endpoint before the same
    request retries. The failover must settle before the first ejection ends.
    """
    config = json.loads(RENDERED["control_plane_outage.json"])["configuration"]
    data = yaml.safe_load(lab_topology.resolve(config["lab_topology"]).read_text())
    (workload,) = data["workloads"]
    (rule,) = [
        doc
        for entry in data["resources"]
        for doc in yaml.safe_load_all(entry["manifest"])
        if doc and doc["kind"] == "DestinationRule"
    ]
    outlier = settings.parse_outlier(ServiceConfig(rule["spec"]["host"], rule["spec"]))
    assert outlier is not None
    stale = workload["replicas"][config["cluster_a_context"]]
    attempts = 1 + router.DEFAULT_RETRIES
    assert outlier.consecutive_5xx == 1  # the concurrency argument needs it
    assert config["error_budget"] == outlier.consecutive_5xx * stale // attempts
    assert config["failover_deadline"] == outlier.base_ejection_time
