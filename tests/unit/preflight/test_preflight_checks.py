"""The pure preflight checks, on objects shaped as the Kubernetes API returns them."""

from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.preflight import access, config, placement
from chaosext.preflight.findings import FAIL, PASS, SKIP
from chaosext.preflight.needs import TIERS, ClientRef, TierNeeds
from chaosext.preflight.placement import Place
from probes import preflight

REGION = "topology.kubernetes.io/region"
ZONE = "topology.kubernetes.io/zone"
NETWORK = "topology.istio.io/network"


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


def test_a_node_without_its_zone_label_fails_naming_node_and_label():
    """node-locality names the node and the label it lacks."""
    found = placement.node_locality(
        "c1", [node("n1", **{REGION: "r", ZONE: "r-a"}), node("n2", **{REGION: "r"})]
    )
    assert [f.status for f in found] == [FAIL]
    assert found[0].subject == "node n2"
    assert ZONE in found[0].message


def test_labelled_nodes_pass_with_their_zones():
    """All nodes labelled: one pass listing the zones."""
    (found,) = placement.node_locality("c1", [node("n1", **{REGION: "r", ZONE: "r-a"})])
    assert found.status == PASS
    assert "r-a" in found.message


@pytest.mark.parametrize(
    ("labels", "status"),
    [
        ({NETWORK: "net1", REGION: "r", ZONE: "r-a"}, PASS),
        ({NETWORK: "net1", REGION: "r"}, FAIL),
    ],
)
def test_eastwest_gateway_needs_network_region_and_zone(labels, status):
    """Labels may sit on the Deployment or its pod template."""
    deployment = {
        "metadata": {"name": "istio-eastwestgateway", "labels": {}},
        "spec": {"template": {"metadata": {"labels": labels}}},
    }
    assert placement.eastwest_gateway("c1", deployment).status == status


def test_no_eastwest_gateway_is_skipped():
    """Where there is none, nothing is checked (and it says so)."""
    assert placement.eastwest_gateway("c1", None).status == SKIP


def _pods(*where: tuple[str, str, str]) -> list[Place]:
    return [Place(c, r, z, f"p{i}") for i, (c, r, z) in enumerate(where)]


@pytest.mark.parametrize(
    ("spread", "pods", "status", "shown"),
    [
        ("zone", [("c1", "r1", "r1a"), ("c1", "r1", "r1b")], PASS, "r1a 1, r1b 1"),
        ("zone", [("c1", "r1", "r1a"), ("c2", "r2", "r2a")], FAIL, "no other zone"),
        ("zone", [("c1", "r1", "r1b"), ("c1", "r1", "r1c")], FAIL, "zone r1a"),
        ("region", [("c1", "r1", "r1a"), ("c2", "r2", "r2a")], PASS, "r2 1"),
        ("region", [("c1", "r1", "r1a"), ("c1", "r1", "r1b")], FAIL, "no other region"),
        ("cluster", [("c1", "r1", "r1a"), ("c2", "r2", "r2a")], PASS, "c2 1"),
        ("cluster", [("c2", "r2", "r2a")], FAIL, "none in the client's cluster c1"),
    ],
)
def test_the_tier_needs_ready_pods_where_it_sends_traffic(spread, pods, status, shown):
    """Relative to a client in c1, r1, r1a."""
    client = Place("c1", "r1", "r1a")
    found = placement.workload_pods("svc", _pods(*pods), spread, client)
    assert found.status == status
    assert shown in found.message


def test_pods_that_are_not_ready_do_not_count():
    """A zone whose pods are all unready is a zone without pods."""
    pods = [Place("c1", "r1", "r1a"), Place("c1", "r1", "r1b", ready=False)]
    found = placement.workload_pods("svc", pods, "zone", Place("c1", "r1", "r1a"))
    assert found.status == FAIL


def test_readiness_reads_the_ready_condition_and_deletion():
    """Scheduled, Ready=True and not terminating."""
    ready = {
        "metadata": {},
        "spec": {"nodeName": "n1"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    gone = {**ready, "metadata": {"deletionTimestamp": "now"}}
    assert placement.is_ready(ready)
    assert not placement.is_ready(gone)
    assert not placement.is_ready({"metadata": {}, "status": {}})


@pytest.mark.parametrize(
    ("status", "expected"),
    [({"readyReplicas": 1}, PASS), ({"readyReplicas": 0}, FAIL), ({}, FAIL)],
)
def test_the_waypoint_needs_a_ready_replica(status, expected):
    """Scaled to zero or not ready: fail."""
    deployment = {"spec": {"replicas": 1}, "status": status}
    assert placement.waypoint("c1", "ns", "wp", deployment).status == expected


def test_a_missing_waypoint_deployment_fails():
    """Named by istio.io/use-waypoint but not rolled out."""
    found = placement.waypoint("c1", "ns", "wp", None)
    assert found.status == FAIL
    assert "not rolled out" in found.message


GLOBAL = {
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "labels": {"solo.io/service-scope": "global"},
    }
}


def _entry(name: str, *hosts: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"hosts": list(hosts)}}


@pytest.mark.parametrize(
    ("entries", "status"),
    [
        ([_entry("autogen.shop.web", "web.shop.mesh.internal")], PASS),
        ([_entry("autogen.shop.web", "other.mesh.internal")], FAIL),
        ([], FAIL),
        (None, FAIL),
    ],
)
def test_a_global_service_has_its_autogen_service_entry(entries, status):
    """autogen.<ns>.<svc> for <svc>.<ns>.mesh.internal (guide 001 step 2)."""
    found = config.global_service_entry("c1", GLOBAL, entries)
    assert found is not None
    assert found.status == status


def test_a_service_that_is_not_global_needs_no_service_entry():
    """No label, no check."""
    service = {"metadata": {"name": "web", "namespace": "shop", "labels": {}}}
    assert config.global_service_entry("c1", service, []) is None


FAILOVER_PRIORITY = {
    "host": "web.shop.mesh.internal",
    "trafficPolicy": {
        "loadBalancer": {
            "localityLbSetting": {
                "enabled": True,
                "failoverPriority": [ZONE, REGION],
            }
        },
        "outlierDetection": {"consecutive5xxErrors": 5},
    },
}


def test_no_rule_fails_where_the_tier_needs_one_and_is_skipped_elsewhere():
    """required -> fail; not required -> skip."""
    host = "web.shop.mesh.internal"
    assert config.destination_rule("c1", None, [], host, "p", True).status == FAIL
    assert config.destination_rule("c1", None, [], host, "p", False).status == SKIP


def test_an_invalid_rule_fails_with_istiods_reason():
    """validate_destination_rule's errors are the finding."""
    spec = {"host": "web", "trafficPolicy": {"outlierDetection": {"interval": "1x"}}}
    found = config.destination_rule("c1", spec, ["shop/web"], "web", "p", True)
    assert found.status == FAIL
    assert "interval" in found.message


def test_failover_priority_without_outlier_detection_fails():
    """failoverPriority is inactive without outlierDetection."""
    spec = {
        "host": FAILOVER_PRIORITY["host"],
        "trafficPolicy": {
            "loadBalancer": FAILOVER_PRIORITY["trafficPolicy"]["loadBalancer"]
        },
    }
    found = config.outlier_detection(
        "c1", spec, ["shop/r"], "h", None, TierNeeds("cluster")
    )
    assert found is not None
    assert found.status == FAIL
    ok = config.outlier_detection(
        "c1", FAILOVER_PRIORITY, ["shop/r"], "h", None, TierNeeds("cluster")
    )
    assert ok is not None
    assert ok.status == PASS


def test_distribute_needs_no_outlier_detection_unless_the_tier_ejects():
    """distribute works without it; the outlier tier needs it anyway."""
    spec = {
        "host": "h",
        "trafficPolicy": {
            "loadBalancer": {
                "localityLbSetting": {
                    "distribute": [{"from": "r1/*", "to": {"r1/*": 100}}]
                }
            }
        },
    }
    assert (
        config.outlier_detection("c1", spec, ["a/b"], "h", None, TIERS["region-outage"])
        is None
    )
    found = config.outlier_detection(
        "c1", spec, ["a/b"], "h", None, TIERS["outlier-ejection"]
    )
    assert found is not None
    assert found.status == FAIL


def test_rbac_names_each_denied_verb_and_resource():
    """A denied answer is listed as verb, resource and namespace."""
    answers = [
        access.Access("list", "", "nodes", "", True),
        access.Access("create", "", "pods/eviction", "shop", False, "no rule"),
    ]
    found = access.access_finding("c1", answers)
    assert found.status == FAIL
    assert "create pods/eviction in namespace shop (no rule)" in found.message
    assert access.access_finding("c1", None).status == SKIP


def test_rbac_asks_for_every_rule_the_drills_are_granted():
    """The questions cover the game-day manifest's rules in each namespace."""
    asked = {(a.verb, a.resource, a.namespace) for a in access.wanted(["shop"])}
    assert ("patch", "deployments", "shop") in asked
    assert ("create", "pods/eviction", "shop") in asked
    assert ("patch", "nodes", "") in asked
    attributes = access.Access("create", "", "pods/exec", "shop").attributes()
    assert attributes == {
        "verb": "create",
        "group": "",
        "resource": "pods",
        "subresource": "exec",
        "namespace": "shop",
    }


def test_the_preflight_probe_takes_its_client_from_the_split_probes_source():
    """Exec pod as is; an ingress Service stands for its pods; a URL names none."""
    exec_source = {"exec": {"context": "c1", "namespace": "ns", "pod": "deploy/x"}}
    ingress = {"ingress": {"service": "istio-system/gw", "context": "c2"}}
    assert preflight._client(exec_source) == ClientRef("c1", "ns", "deploy/x")
    assert preflight._client(ingress) == ClientRef("c2", "istio-system", "svc/gw")
    assert preflight._client({"url": "http://x/"}) is None


def test_an_unknown_tier_fails_the_probe_naming_the_known_ones():
    """One line: the tier at fault and the tiers there are."""
    workload = {"contexts": ["c1"], "namespace": "ns"}
    with pytest.raises(ActivityFailed, match=r"unknown tier 'nope'.*zone-failover"):
        preflight.mesh_preflight("svc", workload, tier="nope")
