"""Who applies the DestinationRule for a client, read from the labels istiod reads."""

from typing import Any

import pytest

from chaosext.preflight import run
from chaosext.preflight.needs import ClientRef, Target
from chaosext.preflight.reading import ClusterView

SERVICE = {"metadata": {"name": "web", "namespace": "shop", "labels": {}}}
TARGET = Target("shop", "web", ClientRef("c1", "front", "deploy/client"))


def pod(labels: dict[str, str], containers: tuple[str, ...] = ("app",)) -> Any:
    return {
        "metadata": {"name": "client-1", "namespace": "front", "labels": labels},
        "spec": {"containers": [{"name": c} for c in containers]},
    }


def view(client: Any, client_ns_labels: dict[str, str], waypoint: str = "") -> Any:
    namespace = {"metadata": {"name": "shop", "labels": {}}}
    if waypoint:
        namespace["metadata"]["labels"]["istio.io/use-waypoint"] = waypoint
    return ClusterView(
        "c1",
        [],
        service=SERVICE,
        namespace=namespace,
        client=client,
        client_namespace={"metadata": {"name": "front", "labels": client_ns_labels}},
    )


AMBIENT = {"istio.io/dataplane-mode": "ambient"}


@pytest.mark.parametrize(
    ("client", "ns_labels", "waypoint", "kind", "namespace"),
    [
        (pod({}, ("app", "istio-proxy")), {}, "", "sidecar", "front"),
        (pod({"istio": "ingressgateway"}), {}, "", "gateway", "front"),
        (pod({}), AMBIENT, "", "ztunnel", "front"),
        (pod({}), AMBIENT, "wp", "waypoint", "shop"),
        (pod({}), {}, "", "none", "front"),
    ],
)
def test_the_choosing_proxy_follows_the_client_pods_data_plane(
    client, ns_labels, waypoint, kind, namespace
):
    """Sidecar, gateway, ztunnel, the Service's waypoint, or not in the mesh."""
    who = run.chooser(view(client, ns_labels, waypoint), TARGET)
    assert (who.kind, who.namespace) == (kind, namespace)


def test_a_ztunnel_client_fails_a_tier_that_needs_a_rule():
    """ztunnel ignores DestinationRules: the waypoint tier cannot be decided."""
    target = Target("shop", "web", TARGET.client, "waypoint-failover")
    (finding,) = run._rule_findings(view(pod({}), AMBIENT), target)
    assert finding.status == "fail"
    assert "ztunnel" in finding.message
