"""Sidecar traffic to another network goes through that network's east-west gateway
(istiod's split-horizon EDS, `chaosext.mesh.networks`): the gateway's own Envoy, at
its own zone, picks the pod; with the gateway down, the network is unreachable. For
every proxy kind, a network is reachable only through a gateway Service istiod knows
(labelled `topology.istio.io/network`, with an address: `chaosext.lab.eastwest`)."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import api_client, kubectl, needs_kubectl, wait_for

URL = "in-ambient.httpbin.mesh.internal:8000/hostname"
FAULT = "lab.meshdrill.io/fault"
NO_LOCALITY_EJECT_FIRST = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: in-ambient-failover
  namespace: httpbin
spec:
  host: in-ambient.httpbin.mesh.internal
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: false
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 5m
      maxEjectionPercent: 100
"""


def eastwest_sidecars(data: dict[str, Any]) -> None:
    """guide-001 step 6 (the failoverPriority DestinationRule), east-west gateways in
    us-east-1a and us-west-2a, and a sidecar client in us-east-1b."""
    for cluster, zone in zip(
        data["clusters"], ("us-east-1a", "us-west-2a"), strict=True
    ):
        cluster["eastwest"] = zone
    data["clients"] = [
        {"name": "sleep", "namespace": "httpbin", "cluster": "cluster1",
         "zone": "us-east-1b", "proxy": "sidecar"}
    ]  # fmt: skip


def scale(info: runtime.LabInfo, context: str, ns: str, name: str, n: int) -> None:
    with api_client(info, context) as api:
        client.AppsV1Api(api).patch_namespaced_deployment_scale(
            name, ns, {"spec": {"replicas": n}}
        )


def sample(info: runtime.LabInfo) -> Counter[str]:
    return meshsample.sample_exec(info, "cluster1", URL, 20, app="sleep")


def test_the_gateway_picks_the_remote_pod_in_its_own_zone(tmp_path: Path) -> None:
    """cluster1 at 0: every answer from cluster2's us-west-2a pod, the zone of its
    east-west gateway (reached directly, both cluster2 pods would share)."""
    with meshsample.running_lab(
        "guide-001-waypoint", tmp_path, eastwest_sidecars
    ) as info:
        where = meshsample.zones_of_pods(info)
        west_a = [
            p
            for p in meshsample.pod_names(info, "cluster2", "in-ambient", "httpbin")
            if where[p] == "cluster2/us-west-2a"
        ]
        assert len(west_a) == 1
        scale(info, "cluster1", "httpbin", "in-ambient", 0)
        wait_for(lambda: set(sample(info)) == {west_a[0]}, 20, "failover to us-west-2a")


def test_sidecar_cannot_reach_a_network_whose_gateway_is_down(tmp_path: Path) -> None:
    """cluster2's east-west gateway at 0 replicas: cluster1's sidecar, whose only
    endpoints are in cluster2, gets no answer; the gateway back, answers again."""
    with meshsample.running_lab(
        "guide-001-waypoint", tmp_path, eastwest_sidecars
    ) as info:
        scale(info, "cluster1", "httpbin", "in-ambient", 0)
        wait_for(
            lambda: meshsample.ERROR not in sample(info), 20, "failover to cluster2"
        )
        scale(info, "cluster2", "istio-system", "istio-eastwestgateway", 0)
        wait_for(lambda: set(sample(info)) == {meshsample.ERROR}, 20, "network cut off")
        scale(info, "cluster2", "istio-system", "istio-eastwestgateway", 1)
        wait_for(lambda: meshsample.ERROR not in sample(info), 20, "network reachable")


def no_locality_eject_first(data: dict[str, Any]) -> None:
    """As `eastwest_sidecars`, with a rule that ejects on the first 5xx and no
    locality preference (every host, local pod or gateway endpoint, at P0)."""
    eastwest_sidecars(data)
    for resources in data["resources"]:
        if "DestinationRule" in resources["manifest"]:
            resources["manifest"] = NO_LOCALITY_EJECT_FIRST


def test_one_failing_remote_pod_takes_its_network_out(tmp_path: Path) -> None:
    """A 503 through a gateway endpoint ejects the endpoint, not the pod: cluster2's
    healthy pod stops getting traffic too (reached directly, it would keep its
    share); cluster1's pods then answer everything."""
    with meshsample.running_lab(
        "guide-001-waypoint", tmp_path, no_locality_eject_first
    ) as info:
        where = meshsample.zones_of_pods(info)
        pods = meshsample.pod_names(info, "cluster2", "in-ambient", "httpbin")
        broken = next(p for p in pods if where[p] == "cluster2/us-west-2a")
        with api_client(info, "cluster2") as api:
            client.CoreV1Api(api).patch_namespaced_pod(
                broken,
                "httpbin",
                {"metadata": {"annotations": {FAULT: json.dumps({"status": 503})}}},
            )
        pod = meshsample.client_pod(info, "cluster1", "sleep", "httpbin")
        script = (
            "for i in $(seq 1 80); do curl -s -o /dev/null "
            f"-w '%{{http_code}} %header{{x-lab-endpoint}}\\n' {URL}; done"
        )
        out, _, _ = meshsample.exec_in(info, "cluster1", "httpbin", pod, script)
    answers = [line.split(" ", 1) for line in out.splitlines()]
    assert len(answers) == 80
    errors = [who for code, who in answers if code != "200"]
    assert errors in ([broken], [broken, broken])  # one per gateway endpoint
    late = {who for _, who in answers[-20:]}
    assert {where[p].split("/")[0] for p in late} == {"cluster1"}


@needs_kubectl
@pytest.mark.parametrize(
    ("name", "edit", "app"),
    [
        ("guide-001", None, "client-in-ambient"),  # as shipped: ztunnel clients
        ("guide-001-waypoint", eastwest_sidecars, "sleep"),
    ],
    ids=["ztunnel", "sidecar"],
)
def test_a_gateway_service_without_its_network_label_carries_nothing(
    tmp_path: Path, name: str, edit: Any, app: str
) -> None:
    """cluster1 at 0, its client's answers all from cluster2; cluster2's gateway
    Service unlabelled (its pod still ready): istiod knows no gateway to
    cluster2-network, so every request fails; labelled again: answers again."""
    gateway = ("-n", "istio-system", "service", "istio-eastwestgateway")
    label = "topology.istio.io/network"
    with meshsample.running_lab(name, tmp_path, edit) as info:
        remote = set(meshsample.pod_names(info, "cluster2", "in-ambient", "httpbin"))

        def answers() -> set[str]:
            return set(meshsample.sample_exec(info, "cluster1", URL, 10, app=app))

        scale(info, "cluster1", "httpbin", "in-ambient", 0)
        wait_for(lambda: answers() <= remote, 20, "failover to cluster2")
        cache = tmp_path / "kubectl-cache"
        kubectl(info, cache, "--context", "cluster2", "label", *gateway, f"{label}-")
        wait_for(lambda: answers() == {meshsample.ERROR}, 20, "cluster2 cut off")
        assert meshsample.all_ready(info)  # the gateway pod never went away
        kubectl(
            info,
            cache,
            *("--context", "cluster2", "label", *gateway),
            f"{label}=cluster2-network",
        )
        wait_for(lambda: answers() <= remote, 20, "cluster2 reachable again")
