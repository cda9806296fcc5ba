"""The VirtualService (client-side) fault on a lab: a real object, applied by the
callers' proxies (no upstream contacted, so nothing is ejected: unlike the
EnvoyFilter form), undone by clear, by the restore after SIGINT, and by
`meshdrill recover` after kill -9 or without its record."""

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext import recover
from chaosext.actions import httpfault
from chaosext.annotations import RESTORE_KEY, RUN_ID_KEY
from chaosext.lab import runtime
from tests.drills import clientfault
from tests.lab import meshsample
from tests.labfixtures import core, custom, gateway_url, kubectl, sample, wait_for
from tests.safety import labs
from tests.safety.processes import TRACEBACK, meshdrill, start_drill

pytestmark = pytest.mark.slow

NAME = "meshdrill-client-fault-hello-world"
HOST = "hello-world.default.svc.cluster.local"
GROUP = ("networking.istio.io", "v1")
LINGER = {"consecutive": "1000", "failover_deadline": "120"}
TYPO = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: typo, namespace: default}
spec:
  hosts: [hello-world]
  http:
  - fault: {abort: {httpStatuss: 503, percentage: {value: 100}}}
    route: [{destination: {host: hello-world}}]
"""
THEIRS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-routing, namespace: default}
spec:
  hosts: [hello-world]
  http:
  - route: [{destination: {host: hello-world}}]
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[runtime.LabInfo]:
    """A detached guide-000 lab with a sidecar client pod in cluster-a."""
    info = labs.start(tmp_path, edit=clientfault.add_sidecar_client)
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


def _ours(lab: runtime.LabInfo, context: str = "cluster-a") -> list[dict[str, Any]]:
    items = custom(lab, context).list_namespaced_custom_object(
        *GROUP, "default", "virtualservices"
    )["items"]
    return [i for i in items if i["metadata"]["name"].startswith("meshdrill-")]


def _curls(lab: runtime.LabInfo, count: int = 20) -> list[tuple[str, str, float]]:
    """(status, body, seconds) of `count` curls from the sidecar client."""
    pod = meshsample.client_pod(lab, "cluster-a", clientfault.CLIENT, "default")
    curl = f"curl -s -m 5 -w ' %{{http_code}} %{{time_total}}\\n' {HOST}/hostname"
    out, _, _ = meshsample.exec_in(
        lab, "cluster-a", "default", pod, f"for i in $(seq 1 {count}); do {curl}; done"
    )
    found = []
    for line in out.splitlines():
        body, code, seconds = line.rsplit(" ", 2)
        found.append((code, body, float(seconds)))
    return found


def _served(lab: runtime.LabInfo) -> int:
    """Requests hello-world's pods (both clusters) logged serving, in all."""
    total = 0
    for context in ("cluster-a", "cluster-b"):
        api = core(lab, context)
        for pod in labs_pods(lab, context):
            log = api.read_namespaced_pod_log(pod, "default")
            total += log.count("Serving request")
    return total


def labs_pods(lab: runtime.LabInfo, context: str) -> list[str]:
    return meshsample.pod_names(lab, context, "hello-world", "default")


def _clusters_answering(lab: runtime.LabInfo) -> set[str]:
    names = {c: set(labs_pods(lab, c)) for c in ("cluster-a", "cluster-b")}
    bodies = {body for code, body, _ in _curls(lab) if code == "200"}
    return {c for c, pods in names.items() if bodies & pods}


def test_host_form_is_a_virtualservice_the_callers_answer_without_any_upstream(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    first = httpfault.inject_http_fault(
        host="hello-world", context="cluster-a", configuration=config
    )
    again = httpfault.inject_http_fault(
        host="hello-world", context="cluster-a", configuration=config
    )
    assert first["changed"]
    assert not again["changed"]
    assert first["host"] == HOST

    shown = kubectl(
        lab, tmp_path / "cache", "--context", "cluster-a", "get",
        "virtualservices.networking.istio.io", NAME, "-n", "default", "-o", "json",
    )  # fmt: skip
    obj = json.loads(shown.stdout)
    assert obj["apiVersion"] == "networking.istio.io/v1"
    assert obj["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "meshdrill",
        "meshdrill.io/run": "run-a",
    }
    assert json.loads(obj["metadata"]["annotations"][RESTORE_KEY])["run"] == "run-a"
    assert obj["spec"]["hosts"] == [HOST]
    (route,) = obj["spec"]["http"]
    assert route["fault"] == {
        "abort": {"httpStatus": 503, "percentage": {"value": 100.0}}
    }
    assert route["route"] == [{"destination": {"host": HOST}}]
    assert _ours(lab, "cluster-b") == [], "one context only"

    # The client's own sidecar answers 503; no pod of either cluster is asked.
    wait_for(
        lambda: {code for code, _, _ in _curls(lab)} == {"503"},
        10,
        "the client's sidecar answering 503",
    )
    before = _served(lab)
    assert {body for _, body, _ in _curls(lab)} == {"fault filter abort"}
    assert _served(lab) == before, "an aborted request reached a pod"
    # Bound to the mesh only: the ingress gateway's traffic is untouched.
    gateway = sample(gateway_url(lab), 20)
    assert not [k for k in gateway if k.startswith("status")], gateway

    assert httpfault.clear_http_fault(
        host="hello-world", context="cluster-a", configuration=config
    )["changed"]
    assert not httpfault.clear_http_fault(
        host="hello-world", context="cluster-a", configuration=config
    )["changed"]
    assert _ours(lab) == []
    # Nothing was ejected (baseEjectionTime is 30 s): both clusters answer at once.
    wait_for(
        lambda: _clusters_answering(lab) == {"cluster-a", "cluster-b"},
        10,
        "both clusters answering the client again",
    )


def test_a_delay_holds_the_callers_requests_to_every_destination(
    lab: runtime.LabInfo,
) -> None:
    """A client-side delay slows the answers of both clusters alike."""
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    httpfault.inject_http_fault(
        host=HOST, context="cluster-a", status=0, delay=0.4, configuration=config
    )
    wait_for(lambda: all(s >= 0.4 for _, _, s in _curls(lab, 5)), 10, "slow answers")
    answers = _curls(lab)
    assert {code for code, _, _ in answers} == {"200"}
    assert min(seconds for _, _, seconds in answers) >= 0.4
    assert _clusters_answering(lab) == {"cluster-a", "cluster-b"}
    httpfault.clear_http_fault(host=HOST, context="cluster-a", configuration=config)


def test_refusals_and_field_validation(lab: runtime.LabInfo, tmp_path: Path) -> None:
    """Another VirtualService for the host, a misspelt fault field, no target."""
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    typo = tmp_path / "typo.yaml"
    typo.write_text(TYPO)
    rejected = kubectl(lab, tmp_path / "cache", "apply", "-f", str(typo), check=False)
    assert "unknown field" in rejected.stderr
    assert "httpStatuss" in rejected.stderr

    theirs = tmp_path / "theirs.yaml"
    theirs.write_text(THEIRS)
    kubectl(lab, tmp_path / "cache", "apply", "-f", str(theirs))
    with pytest.raises(ActivityFailed) as refused:
        httpfault.inject_http_fault(
            host="hello-world", context="cluster-a", configuration=config
        )
    message = str(refused.value)
    assert "virtualservice default/reviews-routing" in message
    assert "meshdrill did not create it" in message
    assert "\n" not in message
    assert _ours(lab) == []
    with pytest.raises(ActivityFailed, match="exactly one of `selector`"):
        httpfault.inject_http_fault(context="cluster-a", configuration=config)
    with pytest.raises(ActivityFailed, match="one DNS name"):
        httpfault.inject_http_fault(host="*.default", configuration=config)


def test_recover_finds_the_virtualservice_by_its_labels(lab: runtime.LabInfo) -> None:
    """With its record removed by hand, the run's labels still find it."""
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    httpfault.inject_http_fault(
        host="hello-world", context="cluster-a", configuration=config
    )
    custom(lab).patch_namespaced_custom_object(
        *GROUP, "default", "virtualservices", NAME,
        {"metadata": {"annotations": {RESTORE_KEY: None}}},
    )  # fmt: skip
    done = recover.recover(lab.kubeconfig, [], None)
    assert done["failed"] == []
    assert [(c["kind"], c["name"], c["run"]) for c in done["changes"]] == [
        ("virtualservice", NAME, "run-a")
    ]
    assert _ours(lab) == []


def test_sigint_mid_drill_deletes_the_virtualservice(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    experiment = clientfault.write(tmp_path)
    drill = start_drill(
        experiment, tmp_path, lab, variables={"lab_topology": lab.topology, **LINGER}
    )
    try:
        drill.until(lambda: _ours(lab), 60, "the drill's VirtualService")
        drill.send(signal.SIGINT)
        done = drill.wait(timeout=15)
    finally:
        drill.stop()
    assert done.code != 0
    assert TRACEBACK not in done.output
    assert _ours(lab) == []


def test_recover_after_kill_9_deletes_the_virtualservice(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    experiment = clientfault.write(tmp_path)
    drill = start_drill(
        experiment, tmp_path, lab, variables={"lab_topology": lab.topology, **LINGER}
    )
    try:
        drill.until(lambda: _ours(lab), 60, "the drill's VirtualService")
        drill.send(signal.SIGKILL)
        assert drill.wait(timeout=10).code == -signal.SIGKILL
    finally:
        drill.stop()
    assert [v["metadata"]["name"] for v in _ours(lab)] == [NAME]

    done = meshdrill("recover", "--kubeconfig", str(lab.kubeconfig), tmp=tmp_path)
    assert done.code == 0, done.output
    assert f"virtualservice default/{NAME}" in done.output
    assert _ours(lab) == []
