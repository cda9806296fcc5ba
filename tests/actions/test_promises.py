"""The actions' promises, called directly against a lab: idempotent, faithful
restore, and one holder per object even when two runs race for it."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from kubernetes import client

from chaosext import annotations, clusters, runcontext, undo
from chaosext.actions import faults, scale, zone
from chaosext.lab import runtime
from tests.labfixtures import FAST_TIMING, apps, core, write_topology

TOPOLOGY = {
    "name": "promises",
    "timing": FAST_TIMING,
    "clusters": [
        {
            "name": "cluster-a",
            "region": "r1",
            "nodes": [
                {"name": "node-1", "zone": "z1"},
                {"name": "node-2", "zone": "z1"},
                {"name": "node-3", "zone": "z2"},
            ],
        }
    ],
    "workloads": [{"name": "web", "replicas": {"cluster-a": 2}}],
}
CTX = "cluster-a"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    directory = tmp_path_factory.mktemp("promises")
    info = runtime.start_lab(
        str(write_topology(TOPOLOGY, directory)), directory / "state", timeout=30.0
    )
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


@pytest.fixture
def run(lab: runtime.LabInfo) -> Iterator[Callable[[str], dict[str, Any]]]:
    """`run("a")`: the configuration of drill run `a`; everything restored after."""

    def configuration(run_id: str) -> dict[str, Any]:
        return runcontext.for_call({"kubeconfig": str(lab.kubeconfig)}, run_id)

    yield configuration
    with clusters.connect(CTX, configuration("cleanup")) as cluster:
        for change in undo.find_changes(cluster, ["default"]):
            undo.undo(cluster, change)
    for name in ("node-1", "node-2", "node-3"):
        core(lab, CTX).patch_node(name, {"spec": {"unschedulable": False}})


def _record(obj: Any) -> annotations.RestoreRecord | None:
    return annotations.read_record(obj.metadata.annotations)


def _deployment(lab: runtime.LabInfo) -> Any:
    return apps(lab, CTX).read_namespaced_deployment("web", "default")


def _node(lab: runtime.LabInfo, name: str) -> Any:
    return core(lab, CTX).read_node(name)


def _pods(lab: runtime.LabInfo) -> list[Any]:
    pods = core(lab, CTX).list_namespaced_pod("default", label_selector="app=web")
    return sorted(pods.items, key=lambda p: p.metadata.name)


def test_scale_to_zero_twice_then_restore_twice(lab, run) -> None:
    """The second call changes nothing; the record keeps the first prior count."""
    config = run("a")
    first = scale.scale_to_zero("web", context=CTX, configuration=config)
    record = _record(_deployment(lab))
    second = scale.scale_to_zero("web", context=CTX, configuration=config)
    assert (first["changed"], second["changed"]) == (True, False)
    assert _record(_deployment(lab)) == record
    assert second["prior_replicas"] == 2
    restored = scale.restore_replicas("web", context=CTX, configuration=config)
    again = scale.restore_replicas("web", context=CTX, configuration=config)
    assert (restored["changed"], again["changed"]) == (True, False)
    deployment = _deployment(lab)
    assert (deployment.spec.replicas, _record(deployment)) == (2, None)


def test_cordon_zone_twice_then_uncordon_twice(lab, run) -> None:
    """A second cordon or uncordon of the same zone changes nothing."""
    config = run("a")
    first = zone.cordon_zone("z1", context=CTX, configuration=config)
    second = zone.cordon_zone("z1", context=CTX, configuration=config)
    assert (first["changed"], second["changed"]) == (["node-1", "node-2"], [])
    assert _node(lab, "node-1").spec.unschedulable
    back = zone.uncordon_zone("z1", context=CTX, configuration=config)
    again = zone.uncordon_zone("z1", context=CTX, configuration=config)
    assert (back["changed"], again["changed"]) == (["node-1", "node-2"], [])
    assert not _node(lab, "node-1").spec.unschedulable


def test_inject_fault_twice_then_clear_twice(lab, run) -> None:
    """The record of a pod faulted twice still holds its prior (no fault)."""
    config = run("a")
    for _ in range(2):
        faults.inject_fault("app=web", context=CTX, status=500, configuration=config)
    records = [_record(p) for p in _pods(lab)]
    assert all(
        r and r.prior == {"annotation": undo.FAULT_KEY, "fault": None} for r in records
    )
    for _ in range(2):
        faults.clear_fault("app=web", context=CTX, configuration=config)
    for pod in _pods(lab):
        assert undo.FAULT_KEY not in (pod.metadata.annotations or {})
        assert _record(pod) is None


@pytest.mark.parametrize("how", ["uncordon_zone", "restore"])
def test_a_node_cordoned_before_the_drill_stays_cordoned(lab, run, how) -> None:
    """Undoing cordon_zone puts back each node's own prior state, not 'schedulable'."""
    core(lab, CTX).patch_node("node-2", {"spec": {"unschedulable": True}})
    config = run("a")
    zone.cordon_zone("z1", context=CTX, configuration=config)
    if how == "uncordon_zone":
        zone.uncordon_zone("z1", context=CTX, configuration=config)
    else:
        with clusters.connect(CTX, config) as cluster:
            for change in undo.find_changes(cluster, ["default"], run_id="a"):
                undo.undo(cluster, change)
    node1, node2 = _node(lab, "node-1"), _node(lab, "node-2")
    assert (bool(node1.spec.unschedulable), _record(node1)) == (False, None)
    assert (bool(node2.spec.unschedulable), _record(node2)) == (True, None)


HOLDERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "scale_to_zero": lambda c: scale.scale_to_zero("web", context=CTX, configuration=c),
    "cordon_zone": lambda c: zone.cordon_zone("z1", context=CTX, configuration=c),
    "inject_fault": lambda c: faults.inject_fault(
        "app=web", context=CTX, configuration=c
    ),
}


@pytest.mark.parametrize("action", sorted(HOLDERS))
def test_a_second_run_on_a_held_object_is_refused_naming_the_holder(
    run, action
) -> None:
    """Run b may not touch what run a holds; the error names run a."""
    HOLDERS[action](run("a"))
    with pytest.raises(ActivityFailed, match=r"held by another drill: run a \("):
        HOLDERS[action](run("b"))


# Where each action writes its restore record: the patch that makes it the holder.
RECORD_PATCH = {
    "scale_to_zero": (client.AppsV1Api, "patch_namespaced_deployment"),
    "cordon_zone": (client.CoreV1Api, "patch_node"),
    "inject_fault": (client.CoreV1Api, "patch_namespaced_pod"),
}


def _holders(lab: runtime.LabInfo, action: str) -> set[str]:
    if action == "scale_to_zero":
        objects = [_deployment(lab)]
    elif action == "cordon_zone":
        objects = [_node(lab, "node-1"), _node(lab, "node-2")]
    else:
        objects = _pods(lab)
    return {r.run for r in map(_record, objects) if r is not None}


@pytest.mark.parametrize("action", sorted(HOLDERS))
def test_two_runs_racing_for_one_object_end_with_one_holder(
    lab, run, action, monkeypatch
) -> None:
    """Both runs read the object before either writes (a barrier makes sure);
    the API's resourceVersion precondition lets exactly one become the holder."""
    cls, method = RECORD_PATCH[action]
    original = getattr(cls, method)
    both_read = threading.Barrier(2)
    arrived: set[int] = set()

    def patch_after_both_read(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() not in arrived:  # first patch of each run
            arrived.add(threading.get_ident())
            both_read.wait(timeout=20)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, patch_after_both_read)
    outcomes: dict[str, BaseException | None] = {}

    def attempt(run_id: str) -> None:
        try:
            HOLDERS[action](run(run_id))
            outcomes[run_id] = None
        except Exception as exc:
            outcomes[run_id] = exc

    threads = [threading.Thread(target=attempt, args=(r,)) for r in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()
    winners = sorted(r for r, error in outcomes.items() if error is None)
    assert len(winners) == 1, f"both runs hold it: {outcomes}"
    loser = "b" if winners == ["a"] else "a"
    assert f"held by another drill: run {winners[0]} (" in str(outcomes[loser])
    assert _holders(lab, action) == {winners[0]}


def test_a_change_by_someone_else_between_read_and_write_is_retried(
    lab, run, monkeypatch
) -> None:
    """A conflict that is not another drill (here a label someone adds) does not
    fail the action: it reads again and holds the object with the right prior."""
    original = client.AppsV1Api.patch_namespaced_deployment
    interfered: list[str] = []
    calls: list[dict[str, Any]] = []

    def someone_else_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        if not interfered:
            interfered.append("label")
            body = {"metadata": {"labels": {"example.com/touched": "yes"}}}
            original(self, "web", "default", body)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(
        client.AppsV1Api, "patch_namespaced_deployment", someone_else_first
    )
    result = scale.scale_to_zero("web", context=CTX, configuration=run("a"))
    monkeypatch.undo()
    deployment = _deployment(lab)
    assert interfered == ["label"]
    # record (409: the label changed it), record again, then replicas 0
    assert [sorted(body) for body in calls] == [["metadata"], ["metadata"], ["spec"]]
    assert (result["changed"], deployment.spec.replicas) == (True, 0)
    record = _record(deployment)
    assert record is not None
    assert (record.run, record.prior) == ("a", {"replicas": 2})
