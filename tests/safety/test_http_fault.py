"""The EnvoyFilter fault on a lab: a real object, effective in traffic, undone by
the rollback, by the restore after SIGINT, and by `meshdrill recover` after kill -9;
the application is never asked to cooperate (no annotation on its pods)."""

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import requests

from chaosext import recover
from chaosext.actions import httpfault
from chaosext.annotations import RESTORE_KEY, RUN_ID_KEY
from chaosext.lab import runtime
from chaosext.lab.objects import ADDRESS_ANNOTATION
from tests.labfixtures import core, custom, gateway_url, kubectl, sample, wait_for
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, meshdrill, start_drill

pytestmark = pytest.mark.slow

NAME = "meshdrill-fault-hello-world"
GROUP = ("networking.istio.io", "v1alpha3")
LINGER = {"consecutive": "1000", "failover_deadline": "120"}
TYPO = """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: typo, namespace: default}
spec:
  workloadSelektor: {labels: {app: hello-world}}
"""


def _filters(lab: runtime.LabInfo, context: str = "cluster-a") -> list[dict[str, Any]]:
    items = custom(lab, context).list_namespaced_custom_object(
        *GROUP, "default", "envoyfilters"
    )["items"]
    return list(items)


def _pods(lab: runtime.LabInfo, context: str) -> list[Any]:
    return list(
        core(lab, context)
        .list_namespaced_pod("default", label_selector="app=hello-world")
        .items
    )


def _answers(lab: runtime.LabInfo) -> set[int]:
    """The statuses cluster-a's hello-world pods answer, asked directly."""
    statuses = set()
    for pod in _pods(lab, "cluster-a"):
        address = pod.metadata.annotations[ADDRESS_ANNOTATION]
        statuses.add(requests.get(f"http://{address}/hostname", timeout=5).status_code)
    return statuses


def test_inject_http_fault_is_an_envoyfilter_callers_eject_and_clear_deletes(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    first = httpfault.inject_http_fault(
        "app=hello-world", context="cluster-a", configuration=config
    )
    again = httpfault.inject_http_fault(
        "app=hello-world", context="cluster-a", configuration=config
    )
    assert first["changed"]
    assert first["pods"] == 2
    assert not again["changed"]

    shown = kubectl(
        lab, tmp_path / "cache", "--context", "cluster-a", "get",
        "envoyfilters.networking.istio.io", "-n", "default", "-o", "json",
    )  # fmt: skip
    (obj,) = json.loads(shown.stdout)["items"]
    assert obj["apiVersion"] == "networking.istio.io/v1alpha3"
    assert obj["metadata"]["name"] == NAME
    assert obj["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "meshdrill",
        "meshdrill.io/run": "run-a",
    }
    assert json.loads(obj["metadata"]["annotations"][RESTORE_KEY])["run"] == "run-a"
    assert obj["spec"]["workloadSelector"] == {"labels": {"app": "hello-world"}}
    patch = obj["spec"]["configPatches"][0]
    assert patch["match"]["context"] == "SIDECAR_INBOUND"
    assert patch["patch"]["value"]["typed_config"]["abort"]["http_status"] == 503
    assert _filters(lab, "cluster-b") == [], "one context only"
    typo = tmp_path / "typo.yaml"
    typo.write_text(TYPO)
    rejected = kubectl(lab, tmp_path / "cache", "apply", "-f", str(typo), check=False)
    assert 'unknown field "spec.workloadSelektor"' in rejected.stderr

    # The sidecars answer 503; the pods stay up and Ready, with no annotation.
    wait_for(lambda: _answers(lab) == {503}, 10, "cluster-a's pods answering 503")
    for pod in _pods(lab, "cluster-a"):
        assert pod.metadata.deletion_timestamp is None
        assert all(c.ready for c in pod.status.container_statuses)
    assert labs.faulted_pods(lab) == []
    # Callers' outlier detection takes them out: only cluster-b answers.
    cluster_b = {p.metadata.name for p in _pods(lab, "cluster-b")}
    url = gateway_url(lab)
    wait_for(lambda: set(sample(url, 20)) <= cluster_b, 30, "only cluster-b answering")

    cleared = httpfault.clear_http_fault(
        "app=hello-world", context="cluster-a", configuration=config
    )
    twice = httpfault.clear_http_fault(
        "app=hello-world", context="cluster-a", configuration=config
    )
    assert cleared["changed"]
    assert not twice["changed"]
    assert _filters(lab) == []
    wait_for(lambda: _answers(lab) == {200}, 10, "cluster-a's pods answering 200")


def test_another_runs_filter_is_refused_and_recovered_without_its_record(
    lab: runtime.LabInfo,
) -> None:
    mine = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    other = {**mine, RUN_ID_KEY: "run-b"}
    httpfault.inject_http_fault(
        "app=hello-world", context="cluster-a", configuration=mine
    )
    with pytest.raises(Exception, match="held by another drill: run run-a"):
        httpfault.inject_http_fault(
            "app=hello-world", context="cluster-a", configuration=other
        )
    assert not httpfault.clear_http_fault(
        "app=hello-world", context="cluster-a", configuration=other
    )["changed"]
    # Someone removes the record by hand: the run's labels still find the filter.
    custom(lab).patch_namespaced_custom_object(
        *GROUP, "default", "envoyfilters", NAME,
        {"metadata": {"annotations": {RESTORE_KEY: None}}},
    )  # fmt: skip
    done = recover.recover(lab.kubeconfig, [], None)
    assert done["failed"] == []
    assert [(c["kind"], c["name"], c["run"]) for c in done["changes"]] == [
        ("envoyfilter", NAME, "run-a")
    ]
    assert _filters(lab) == []

    # Half the requests: some answers fail, some do not.
    httpfault.inject_http_fault(
        "app=hello-world", context="cluster-a", status=500, percentage=50,
        configuration=mine,
    )  # fmt: skip
    address = _pods(lab, "cluster-a")[0].metadata.annotations[ADDRESS_ANNOTATION]

    def statuses() -> set[int]:
        with requests.Session() as session:
            url = f"http://{address}/hostname"
            return {session.get(url, timeout=5).status_code for _ in range(40)}

    wait_for(lambda: statuses() == {200, 500}, 10, "half the answers 500")
    httpfault.clear_http_fault(
        "app=hello-world", context="cluster-a", configuration=mine
    )


def test_sigint_mid_drill_deletes_the_filter_and_no_pod_is_annotated(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    drill = start_drill(
        EXPERIMENTS / "outlier_ejection.json",
        tmp_path,
        lab,
        variables={"lab_topology": lab.topology, **LINGER},
    )
    try:
        drill.until(lambda: _filters(lab), 60, "the drill's EnvoyFilter")
        drill.until(lambda: _answers(lab) == {503}, 10, "cluster-a answering 503")
        assert labs.faulted_pods(lab) == [], "the application is asked nothing"
        drill.send(signal.SIGINT)
        done = drill.wait(timeout=15)
    finally:
        drill.stop()
    assert done.code != 0
    assert TRACEBACK not in done.output
    assert _filters(lab) == []
    assert labs.faulted_pods(lab) == []


def test_recover_after_kill_9_deletes_the_filter(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    drill = start_drill(
        EXPERIMENTS / "outlier_ejection.json",
        tmp_path,
        lab,
        variables={"lab_topology": lab.topology, **LINGER},
    )
    try:
        drill.until(lambda: _filters(lab), 60, "the drill's EnvoyFilter")
        drill.send(signal.SIGKILL)
        assert drill.wait(timeout=10).code == -signal.SIGKILL
    finally:
        drill.stop()
    assert [f["metadata"]["name"] for f in _filters(lab)] == [NAME]

    done = meshdrill("recover", "--kubeconfig", str(lab.kubeconfig), tmp=tmp_path)
    assert done.code == 0, done.output
    assert f"envoyfilter default/{NAME}" in done.output
    assert _filters(lab) == []
    wait_for(lambda: _answers(lab) == {200}, 10, "cluster-a's pods answering 200")
