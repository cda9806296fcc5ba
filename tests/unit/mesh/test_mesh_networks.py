"""Split-horizon EDS: other networks through their east-west gateways.

Follows istiod's `EndpointsByNetworkFilter`, `selectNetworkGateways`,
`splitWeightAmongGateways` and `scaleEndpointLBWeight`
([I] `pilot/pkg/xds/endpoints/ep_filters.go`), the gateway count LCM
(`NetworkGateways.GetLBWeightScaleFactor`, `pilot/pkg/model/network.go`), the mTLS
rule (`pilot/pkg/xds/endpoints/mtls_checker.go` `checkMtlsEnabled`) and the gateway
endpoint's labels (`AugmentLabels(nil, cluster, "", "", network)`,
`pilot/pkg/serviceregistry/util/label/label.go`).
"""

import dataclasses
import random
from collections import Counter
from typing import Any

import pytest
from mesh_factories import (
    dr_with,
    ep,
    loc,
    proxy,
    service,
)

from chaosext.mesh import NetworkGateway, Router, assignment, explain, predict, whatif

FAILOVER = dr_with(None, {"consecutive5xxErrors": 1, "maxEjectionPercent": 100})
EJECT_FAST_DR = dr_with(
    None,
    {
        "consecutive5xxErrors": 1,
        "interval": "1s",
        "baseEjectionTime": "30s",
        "maxEjectionPercent": 100,
    },
)


def gateway(
    network: str = "n2",
    cluster: str = "c2",
    where: str = "r2/z1",
    name: str = "",
    dr: dict[str, Any] | None = None,
) -> NetworkGateway:
    """An east-west gateway of `network` in `cluster`, its Envoy at `where`."""
    return NetworkGateway(
        network,
        cluster,
        name or f"{cluster}/eastwest",
        proxy("gateway", where, cluster, network, namespace="istio-system"),
        dr,
    )


def remote() -> list[Any]:
    """Two local pods (r1/z1), three remote pods on n2 in two zones of r2."""
    return [
        ep("a0", "r1/z1"),
        ep("a1", "r1/z1"),
        ep("b0", "r2/z1", "c2", "n2"),
        ep("b1", "r2/z1", "c2", "n2"),
        ep("b2", "r2/z2", "c2", "n2"),
    ]


def test_no_gateway_anywhere_reaches_every_endpoint_directly() -> None:
    """Multi-network not configured: remote pods stay hosts of their own."""
    got = assignment(proxy(), service(FAILOVER), remote())
    assert sorted(e.name for e in got.endpoints()) == ["a0", "a1", "b0", "b1", "b2"]


def test_remote_pods_become_one_gateway_endpoint_per_remote_locality() -> None:
    """Weight = number of pods it stands for; locality = the remote group's."""
    got = assignment(
        proxy(), service(FAILOVER, network_gateways=(gateway(),)), remote()
    )
    hosts = {e.name: e for e in got.endpoints()}
    assert set(hosts) == {"a0", "a1", "c2/eastwest@r2/z1", "c2/eastwest@r2/z2"}
    z1, z2 = hosts["c2/eastwest@r2/z1"], hosts["c2/eastwest@r2/z2"]
    assert (z1.weight, z2.weight) == (2, 1)
    assert (z1.locality, z2.locality) == (loc("r2/z1"), loc("r2/z2"))
    assert [e.name for e in z1.behind] == ["b0", "b1"]
    assert z1.mesh_labels() == {
        "topology.istio.io/cluster": "c2",
        "topology.istio.io/network": "n2",
    }


def test_gateway_endpoint_keeps_the_remote_locality_for_default_priorities() -> None:
    """Default failover ranks it by the remote group's locality (other region: P1)."""
    got = assignment(
        proxy(), service(FAILOVER, network_gateways=(gateway(),)), remote()
    )
    by_priority: dict[int, set[str]] = {}
    for group in got.groups:
        by_priority.setdefault(group.priority, set()).update(
            e.name for e in group.endpoints
        )
    assert by_priority == {
        0: {"a0", "a1"},
        1: {"c2/eastwest@r2/z1", "c2/eastwest@r2/z2"},
    }


def test_failover_priority_region_label_mismatches_the_gateway_endpoint() -> None:
    """Same region, other network: a pod would match region, its gateway cannot."""
    rule = dr_with(
        {"failoverPriority": ["topology.kubernetes.io/region"]},
        {"maxEjectionPercent": 100},
    )
    pods = [ep("a0", "r1/z1"), ep("b0", "r1/z2", "c2", "n2")]
    direct = assignment(proxy(), service(rule), pods)
    assert {g.priority for g in direct.groups} == {0}
    through = assignment(proxy(), service(rule, network_gateways=(gateway(),)), pods)
    assert {e.name: g.priority for g in through.groups for e in g.endpoints} == {
        "a0": 0,
        "c2/eastwest@r1/z2": 1,
    }


def test_weights_are_scaled_by_the_lcm_of_gateway_counts() -> None:
    """Two gateways on n2 (one per cluster): local pods weigh 2; a remote pod of
    c2 goes whole to c2's gateway; one of c3 (no gateway there) is split."""
    gws = (gateway(cluster="c2"), gateway(cluster="c3"))
    pods = [
        ep("a0", "r1/z1"),
        ep("b0", "r2/z1", "c2", "n2"),
        ep("d0", "r2/z1", "c4", "n2"),
    ]
    got = assignment(proxy(), service(FAILOVER, network_gateways=gws), pods)
    weights = {e.name: e.weight for e in got.endpoints()}
    assert weights == {"a0": 2, "c2/eastwest@r2/z1": 3, "c3/eastwest@r2/z1": 1}


def test_remote_pod_without_mtls_is_dropped_for_a_sidecar() -> None:
    """Cross-network SNI routing needs Istio mTLS (`isMtlsEnabled`)."""
    pods = [ep("a0"), ep("b0", "r2/z1", "c2", "n2", mtls=False)]
    got = assignment(proxy(), service(FAILOVER, network_gateways=(gateway(),)), pods)
    assert [e.name for e in got.endpoints()] == ["a0"]
    assert [e.name for e in got.dropped] == ["b0"]


@pytest.mark.parametrize(("mode", "kept"), [("ISTIO_MUTUAL", True), ("DISABLE", False)])
def test_destination_rule_tls_mode_decides_mtls(mode: str, kept: bool) -> None:
    """A DR `tls.mode` wins over the endpoint's own mode (`checkMtlsEnabled`)."""
    rule = {"host": "h", "trafficPolicy": {"tls": {"mode": mode}}}
    pods = [ep("a0"), ep("b0", "r2/z1", "c2", "n2", mtls=False)]
    got = assignment(proxy(), service(rule, network_gateways=(gateway(),)), pods)
    assert any(e.gateway for e in got.endpoints()) is kept


def test_network_without_gateway_is_direct_for_sidecars_dropped_for_waypoints() -> None:
    """n3 has no gateway: a sidecar reaches it directly, a waypoint not at all."""
    pods = [ep("a0"), ep("c0", "r2/z1", "c3", "n3")]
    config = service(FAILOVER, network_gateways=(gateway(),))
    sidecar = assignment(proxy(), config, pods)
    assert [e.name for e in sidecar.endpoints()] == ["a0", "c0"]
    waypoint = assignment(proxy("waypoint"), config, pods)
    assert [e.name for e in waypoint.endpoints()] == ["a0"]


def test_waypoint_goes_through_the_gateway_without_mtls() -> None:
    """Double HBONE needs no Istio mTLS on the remote pod."""
    pods = [ep("a0"), ep("b0", "r2/z1", "c2", "n2", mtls=False)]
    config = service(FAILOVER, network_gateways=(gateway(),))
    got = assignment(proxy("waypoint"), config, pods)
    assert [e.name for e in got.endpoints()] == ["a0", "c2/eastwest@r2/z1"]


def test_ztunnel_keeps_per_workload_endpoints() -> None:
    """ztunnel ranks the remote pods themselves (not gateway endpoints)."""
    config = service(None, "PreferClose", network_gateways=(gateway(),))
    got = assignment(proxy("ztunnel"), config, remote())
    assert not any(e.gateway for e in got.endpoints())


def test_the_gateway_chooses_by_its_own_locality() -> None:
    """With failover on, the gateway (r2/z1) sends everything to its own zone."""
    config = service(FAILOVER, network_gateways=(gateway(where="r2/z1", dr=FAILOVER),))
    pods = [ep("b0", "r2/z1", "c2", "n2"), ep("b2", "r2/z2", "c2", "n2")]
    shares = predict(proxy(), config, pods)
    assert shares == pytest.approx({"b0": 1.0})


def test_the_gateway_uses_its_own_destination_rule() -> None:
    """No rule at the gateway: no locality preference there, pods share evenly."""
    config = service(FAILOVER, network_gateways=(gateway(dr=None),))
    pods = [ep("b0", "r2/z1", "c2", "n2"), ep("b2", "r2/z2", "c2", "n2")]
    assert predict(proxy(), config, pods) == pytest.approx({"b0": 0.5, "b2": 0.5})


def test_ejecting_the_gateway_endpoint_ejects_every_pod_behind_it() -> None:
    """One 5xx through the gateway ejects its endpoint: no pod behind it is
    picked again until the ejection ends; the local pod takes everything."""
    config = service(EJECT_FAST_DR, network_gateways=(gateway(dr=EJECT_FAST_DR),))
    pods = [
        ep("a0", "r1/z1"),
        ep("b0", "r1/z1", "c2", "n2"),
        ep("b1", "r1/z1", "c2", "n2"),
    ]
    router = Router(proxy(), config, random.Random(7))
    router.update(config, pods, now=0.0)
    host = next(e for e in router.assignment.endpoints() if e.gateway)
    assert {e.name for e in host.behind} == {"b0", "b1"}
    router.report(host.name, 503, 0.5)
    assert router.ejected() == {host.name}
    picks = Counter(router.pick(1.0).name for _ in range(200))  # type: ignore[union-attr]
    assert picks == {"a0": 200}


def test_router_passes_gateway_picks_on_to_the_gateways_choice() -> None:
    """`through` picks a pod of the gateway's network, by the gateway's rule."""
    config = service(None, network_gateways=(gateway(),))
    pods = [ep("b0", "r2/z1", "c2", "n2"), ep("b2", "r2/z2", "c2", "n2")]
    router = Router(proxy(), config, random.Random(3))
    router.update(config, pods, now=0.0)
    seen = Counter()
    for _ in range(400):
        host = router.pick(0.0)
        assert host is not None
        assert host.gateway
        pod = router.through(host, 0.0)
        assert pod is not None
        seen[pod.name] += 1
    assert set(seen) == {"b0", "b2"}
    assert 120 < seen["b0"] < 280


def test_explain_rows_give_remote_pods_their_gateway_endpoint_priority() -> None:
    """Remote pods show their gateway endpoint's priority; `--eject region=r2`
    ejects the gateway endpoints, so the local pods take every request."""
    config = service(FAILOVER, network_gateways=(gateway(dr=None),))
    got = whatif.split(proxy(), config, remote(), via="test")
    rows = {r.pod: (r.priority, round(r.share, 6)) for r in got.rows}
    assert rows["b0"][0] == rows["b2"][0] == 1
    assert rows["a0"] == (0, 0.5)
    ejected = whatif.split(
        proxy(),
        config,
        remote(),
        via="test",
        eject=[whatif.Selector.parse("region=r2")],
    )
    assert "ejected: c2/eastwest@r2/z1" in ejected.notes
    assert "ejected: c2/eastwest@r2/z2" in ejected.notes
    assert ejected.by("cluster") == pytest.approx({"c1": 1.0, "c2": 0.0})


def test_explain_lists_the_pods_behind_each_gateway_endpoint() -> None:
    """The text says which pods the gateway sends to (its zone: b0, b1; not b2)."""
    config = service(FAILOVER, network_gateways=(gateway(dr=FAILOVER),))
    text = explain(proxy(), config, remote())
    assert "  c2/eastwest@r2/z2 [c2]: 0.0%" in text
    assert "    -> b0: 50.0% of what the gateway gets" in text
    assert "    -> b2: 0.0% of what the gateway gets" in text


def test_a_waypoint_uses_only_gateways_that_take_hbone() -> None:
    """`selectNetworkGateways` for ambient waypoints skips gateways without an
    HBONE port: the remote pod is then unreachable; a sidecar still uses it."""
    tls_only = dataclasses.replace(gateway(), hbone=False)
    pods = [ep("a0"), ep("b0", "r2/z1", "c2", "n2")]
    config = service(FAILOVER, network_gateways=(tls_only,))
    waypoint = assignment(proxy("waypoint"), config, pods)
    assert [e.name for e in waypoint.endpoints()] == ["a0"]
    sidecar = assignment(proxy(), config, pods)
    assert [e.name for e in sidecar.endpoints()] == ["a0", "c2/eastwest@r2/z1"]
