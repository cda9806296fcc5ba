"""VirtualService routes: what meshdrill writes is what a calling proxy reads back,
and which VirtualService a proxy applies (binding, exportTo, hosts, age)."""

from typing import Any

import pytest

from chaosext.mesh import virtualservice
from chaosext.mesh.httpfault import HttpFault
from chaosext.mesh.virtualservice import Route

HOST = "reviews.shop.svc.cluster.local"


def _vs(
    name: str,
    spec: dict[str, Any],
    namespace: str = "shop",
    created: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace, "creationTimestamp": created}
    return {"metadata": meta, "spec": spec}


def _abort(status: int = 503, hosts: tuple[str, ...] = ("reviews",), **extra: Any):
    fault = {"abort": {"httpStatus": status, "percentage": {"value": 100}}}
    return {"hosts": list(hosts), "http": [{"fault": fault}], **extra}


@pytest.mark.parametrize(
    "fault",
    [
        HttpFault(status=503, abort_percent=50.0),
        HttpFault(delay=0.5, delay_percent=100.0),
        HttpFault(status=500, abort_percent=0.5, delay=1.5, delay_percent=25.0),
    ],
)
def test_the_written_fault_reads_back(fault: HttpFault) -> None:
    """virtual_service's route, read as a sidecar would, is the fault given."""
    obj = virtualservice.virtual_service("f", "shop", HOST, fault)
    assert obj["apiVersion"] == "networking.istio.io/v1"
    assert obj["spec"]["hosts"] == [HOST]
    assert obj["spec"]["http"][0]["route"] == [{"destination": {"host": HOST}}]
    route = virtualservice.route_for([obj], HOST, "shop")
    assert route == Route(fault, None, "shop/f")


def test_unset_percentages_mean_no_request_and_percent_is_read() -> None:
    """Istio: a fault without `percentage` acts on no request; `percent` is legacy."""
    no_share = {"abort": {"httpStatus": 503}, "delay": {"fixedDelay": "1s"}}
    assert virtualservice.route_fault(no_share) is None
    legacy = {"delay": {"fixedDelay": "200ms", "percent": 30}}
    assert virtualservice.route_fault(legacy) == HttpFault(
        delay=0.2, delay_percent=30.0
    )


@pytest.mark.parametrize(
    ("spec", "proxy_namespace", "bindings", "applies"),
    [
        (_abort(), "front", ("mesh",), True),  # short name, exported everywhere
        (_abort(hosts=("*.shop.svc.cluster.local",)), "front", ("mesh",), True),
        (_abort(hosts=("ratings",)), "front", ("mesh",), False),
        (_abort(exportTo=["."]), "front", ("mesh",), False),
        (_abort(exportTo=["."]), "shop", ("mesh",), True),
        (_abort(exportTo=["front"]), "front", ("mesh",), True),
        (_abort(gateways=["public"]), "front", ("mesh",), False),
        (_abort(gateways=["public"]), "istio-system", ("shop/public",), True),
        (_abort(gateways=["mesh", "public"]), "front", ("mesh",), True),
        (_abort(), "istio-system", ("shop/public",), False),  # mesh only
    ],
)
def test_which_proxies_a_virtualservice_applies_to(
    spec: dict[str, Any], proxy_namespace: str, bindings: tuple[str, ...], applies: bool
) -> None:
    """Hosts, exportTo and gateways decide, as istiod does."""
    route = virtualservice.route_for([_vs("v", spec)], HOST, proxy_namespace, bindings)
    assert (route is not None) is applies


def test_the_oldest_virtualservice_for_a_host_applies_to_sidecars() -> None:
    """Two for one host: the oldest wins; a route with `match` is not modelled."""
    old = _vs("old", _abort(500), created="2026-01-01T00:00:00Z")
    new = _vs("new", _abort(503), created="2026-02-01T00:00:00Z")
    route = virtualservice.route_for([new, old], HOST, "shop")
    assert route is not None
    assert route.source == "shop/old"
    matched = _vs("m", {"hosts": ["reviews"], "http": [{"match": [{}], "fault": {}}]})
    assert virtualservice.route_for([matched, new], HOST, "shop") is None


def test_route_timeout_is_read() -> None:
    """`http[].timeout` in seconds; no fault needed."""
    spec = {"hosts": ["reviews"], "http": [{"timeout": "250ms"}]}
    assert virtualservice.route_for([_vs("t", spec)], HOST, "shop") == Route(
        None, 0.25, "shop/t"
    )
