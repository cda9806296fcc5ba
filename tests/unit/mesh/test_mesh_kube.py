"""How istiod reads Kubernetes objects (`chaosext.mesh.kube`) and the what-if
ejection limit (`chaosext.mesh.whatif`)."""

from typing import Any

import pytest
from mesh_factories import GUIDE_001_WAYPOINT_DR

from chaosext.mesh import (
    Endpoint,
    Locality,
    Proxy,
    ServiceConfig,
    assignment,
    kube,
    whatif,
)

AMBIENT = {"metadata": {"name": "ns", "labels": {"istio.io/dataplane-mode": "ambient"}}}
PLAIN = {"metadata": {"name": "ns"}}


def pod(labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metadata": {"name": "p", "namespace": "ns", "labels": labels or {}},
        "spec": {"nodeName": "n1", "containers": [{"name": "app"}]},
    }
    out["metadata"].update(extra.pop("metadata", {}))
    out["spec"].update(extra.pop("spec", {}))
    return out


@pytest.mark.parametrize(
    ("the_pod", "namespace", "expected"),
    [
        (pod(), PLAIN, kube.NO_MESH),
        (pod(), AMBIENT, kube.ZTUNNEL),
        (pod({"istio.io/dataplane-mode": "none"}), AMBIENT, kube.NO_MESH),
        (pod({"istio.io/dataplane-mode": "ambient"}), PLAIN, kube.ZTUNNEL),
        (
            pod(metadata={"annotations": {"sidecar.istio.io/status": "{}"}}),
            AMBIENT,
            kube.SIDECAR,
        ),
        (pod(spec={"containers": [{"name": "istio-proxy"}]}), PLAIN, kube.SIDECAR),
        (pod({"istio": "ingressgateway"}), PLAIN, kube.GATEWAY),
        (
            pod({"gateway.networking.k8s.io/gateway-name": "waypoint"}),
            AMBIENT,
            kube.WAYPOINT,
        ),
        (
            pod(
                {
                    "gateway.networking.k8s.io/gateway-name": "public",
                    "gateway.istio.io/managed": "istio.io-gateway-controller",
                }
            ),
            PLAIN,
            kube.GATEWAY,
        ),
    ],
)
def test_dataplane_from_istios_labels(the_pod, namespace, expected):
    """Sidecar injection, ambient mode (pod over namespace), gateways, waypoints."""
    assert kube.dataplane(the_pod, namespace) == expected


def svc(labels=None, annotations=None, spec=None) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "s",
            "namespace": "ns",
            "labels": labels or {},
            "annotations": annotations or {},
        },
        "spec": spec or {"selector": {"app": "s"}},
    }


TD = "networking.istio.io/traffic-distribution"


@pytest.mark.parametrize(
    ("service", "namespace", "expected"),
    [
        (svc(), PLAIN, None),
        (svc(), {"metadata": {"annotations": {TD: "PreferNetwork"}}}, "PreferNetwork"),
        (
            svc(annotations={TD: "PreferClose"}),
            {"metadata": {"annotations": {TD: "PreferNetwork"}}},
            "PreferClose",
        ),
        (
            svc(annotations={TD: "PreferClose"}, spec={"trafficDistribution": "X"}),
            PLAIN,
            "X",
        ),
    ],
)
def test_traffic_distribution_spec_then_service_then_namespace(
    service, namespace, expected
):
    """`GetTrafficDistribution`: spec field > Service annotation > Namespace's."""
    assert kube.traffic_distribution(service, namespace) == expected


@pytest.mark.parametrize(
    ("service", "namespace", "expected"),
    [
        (svc(), PLAIN, None),
        (svc(), {"metadata": {"labels": {"istio.io/use-waypoint": "wp"}}}, "wp"),
        (
            svc(labels={"istio.io/use-waypoint": "none"}),
            {"metadata": {"labels": {"istio.io/use-waypoint": "wp"}}},
            None,
        ),
        (svc(labels={"istio.io/use-waypoint": "mine"}), PLAIN, "mine"),
    ],
)
def test_waypoint_service_label_then_namespace(service, namespace, expected):
    """`istio.io/use-waypoint` on the Service wins; `none` opts out."""
    assert kube.waypoint_of(service, namespace) == expected


def test_global_service_hosts():
    """A global Service (solo.io/service-scope) also serves <svc>.<ns>.mesh.internal"""
    assert kube.service_hosts(svc(labels={"solo.io/service-scope": "global"})) == {
        "s.ns.svc.cluster.local",
        "s.ns.mesh.internal",
    }


def endpoints(count: int) -> list[Endpoint]:
    return [
        Endpoint(f"p{i}", "c", "n", Locality("r", f"z{i % 2}")) for i in range(count)
    ]


@pytest.mark.parametrize(
    ("percent", "hosts", "limit"),
    [(50, 4, 2), (100, 3, 3), (10, 4, 0), (10, 10, 1), (None, 9, 0), (34, 3, 1)],
)
def test_ejection_limit_follows_envoy(percent, hosts, limit):
    """`ejectHost`: eject while 100 x (ejected + 1) / N <= maxEjectionPercent
    (unset: 10%)."""
    outlier: dict[str, Any] = {"consecutive5xxErrors": 1}
    if percent is not None:
        outlier["maxEjectionPercent"] = percent
    config = ServiceConfig(
        "h", {"host": "h", "trafficPolicy": {"outlierDetection": outlier}}
    )
    proxy = Proxy("sidecar", "c", "c", "n", Locality("r", "z0"))
    assert whatif.ejection_limit(assignment(proxy, config, endpoints(hosts))) == limit


def test_eject_beyond_the_limit_cannot_happen():
    """guide 001's rule (50%) allows 2 of 4 hosts; asking 3 says it cannot happen."""
    config = ServiceConfig("h", GUIDE_001_WAYPOINT_DR)
    proxy = Proxy("waypoint", "w", "c", "n", Locality("r", "z0"))
    three = [whatif.Selector("pod", n) for n in ("p0", "p1", "p2")]
    result = whatif.split(proxy, config, endpoints(4), via="w", eject=three)
    assert not result.possible
    assert any("at most 2 ejected at once, not 3" in n for n in result.notes)


def test_eject_without_outlier_detection_cannot_happen():
    """No outlierDetection: Envoy never ejects, so `--eject` is impossible."""
    proxy = Proxy("sidecar", "s", "c", "n", Locality("r", "z0"))
    result = whatif.split(
        proxy,
        ServiceConfig("h"),
        endpoints(4),
        via="s",
        eject=[whatif.Selector("pod", "p0")],
    )
    assert not result.possible


def test_label_selector():
    """`label:KEY=VALUE` selects endpoints by pod label."""
    selector = whatif.Selector.parse("label:version=v2")
    assert selector.matches(Endpoint("p", "c", "n", Locality(), {"version": "v2"}))
    assert not selector.matches(Endpoint("p", "c", "n", Locality(), {"version": "v1"}))
    with pytest.raises(whatif.PredictionError, match="label:KEY=VALUE"):
        whatif.Selector.parse("label:version")


def eastwest_service(ingress: list[dict[str, str]], **labels: str) -> dict[str, Any]:
    """An east-west gateway Service (istio-system), labelled with its network."""
    return {
        "metadata": {
            "name": "istio-eastwestgateway",
            "namespace": "istio-system",
            "labels": {"topology.istio.io/network": "net-2", **labels},
        },
        "spec": {"selector": {"istio": "eastwestgateway"}},
        "status": {"loadBalancer": {"ingress": ingress}},
    }


def test_a_network_labelled_service_without_an_address_is_no_gateway() -> None:
    """istiod's registry gateways need a load-balancer address."""
    assert kube.network_gateways("c2", eastwest_service([]), [], {}) == []


def test_one_gateway_per_address_with_its_pod_as_the_choosing_proxy() -> None:
    """Two addresses, two gateways; the Envoy stands on its pod's node."""
    service = eastwest_service([{"ip": "10.0.0.1"}, {"hostname": "gw.example"}])
    gw_pod = pod({"istio": "eastwestgateway"}, metadata={"name": "ew-1"})
    gw_pod["metadata"]["namespace"] = "istio-system"
    nodes = {"n1": {"topology.kubernetes.io/region": "r2",
                    "topology.kubernetes.io/zone": "z2"}}  # fmt: skip
    found = kube.network_gateways("c2", service, [gw_pod], nodes)
    assert [g.name for g in found] == [
        "c2/istio-system/istio-eastwestgateway",
        "c2/istio-system/istio-eastwestgateway#1",
    ]
    assert {(g.network, g.cluster) for g in found} == {("net-2", "c2")}
    assert found[0].proxy.name == "ew-1"
    assert found[0].proxy.locality == Locality("r2", "z2")


def test_a_gateway_without_pods_stands_where_its_service_says() -> None:
    """No live pod: the Service's own region and zone labels place it."""
    service = eastwest_service(
        [{"ip": "10.0.0.1"}],
        **{"topology.kubernetes.io/region": "r2", "topology.kubernetes.io/zone": "z1"},
    )
    (found,) = kube.network_gateways("c2", service, [], {})
    assert found.proxy.locality == Locality("r2", "z1")


@pytest.mark.parametrize(
    ("labels", "mtls"),
    [({}, True), ({"security.istio.io/tlsMode": "istio"}, True),
     ({"security.istio.io/tlsMode": "disabled"}, False)],
)  # fmt: skip
def test_endpoint_mtls_follows_the_tls_mode_label(
    labels: dict[str, str], mtls: bool
) -> None:
    """istiod sends Istio mTLS only to `security.istio.io/tlsMode: istio` pods
    (unlabelled lab pods count as in the mesh)."""
    assert kube.endpoint(pod(labels), {}, "c1", "n1").mtls is mtls


def test_a_gateway_takes_hbone_when_its_service_has_port_15008() -> None:
    """The HBONE port makes a gateway usable by waypoints (ambient)."""
    service = eastwest_service([{"ip": "10.0.0.1"}])
    assert not kube.network_gateways("c2", service, [], {})[0].hbone
    service["spec"]["ports"] = [{"name": "tls-hbone", "port": 15008}]
    assert kube.network_gateways("c2", service, [], {})[0].hbone


def test_a_gateway_network_needs_both_the_label_and_an_address() -> None:
    """istiod's registry gateways: labelled `topology.istio.io/network` and given
    a load-balancer address (`pilot/pkg/model/network.go`)."""
    addressed = eastwest_service([{"ip": "10.0.0.1"}])
    assert kube.gateway_network(addressed) == "net-2"
    assert kube.gateway_network(eastwest_service([])) is None
    del addressed["metadata"]["labels"]["topology.istio.io/network"]
    assert kube.gateway_network(addressed) is None


def test_ready_behind_counts_live_ready_selected_pods_of_its_namespace() -> None:
    """Only pods the Service's load balancer can send to: selected, in its
    namespace, scheduled, not terminating, Ready."""
    service = eastwest_service([{"ip": "10.0.0.1"}])

    def gateway_pod(
        name: str, namespace: str = "istio-system", ready: bool = True, **meta: str
    ) -> dict[str, Any]:
        out = pod(
            {"istio": "eastwestgateway"},
            metadata={"name": name, "namespace": namespace, **meta},
        )
        condition = {"type": "Ready", "status": "True" if ready else "False"}
        out["status"] = {"conditions": [condition]}
        return out

    pods = [
        gateway_pod("up"),
        gateway_pod("elsewhere", namespace="ns"),
        gateway_pod("going", deletionTimestamp="2026-01-01T00:00:00Z"),
        gateway_pod("starting", ready=False),
        {**gateway_pod("ingress"), "metadata": {"name": "ingress",
            "namespace": "istio-system", "labels": {"istio": "ingressgateway"}}},
    ]  # fmt: skip
    assert kube.ready_behind(service, pods) == 1
    assert kube.ready_behind(service, pods[1:]) == 0
