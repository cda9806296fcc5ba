"""Sidecar traffic to another network goes through that network's east-west gateway
(istiod's split-horizon EDS, `chaosext.mesh.networks`): the gateway's own Envoy, at
its own zone, picks the pod; with the gateway down, the network is unreachable."""

from collections import Counter
from pathlib import Path
from typing import Any

from kubernetes import client

from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import api_client, wait_for

URL = "in-ambient.httpbin.mesh.internal:8000/hostname"


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
