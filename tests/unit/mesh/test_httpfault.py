"""The EnvoyFilter fault: what meshdrill writes is what a sidecar reads back."""

import pytest

from chaosext.mesh import httpfault
from chaosext.mesh.httpfault import HttpFault


@pytest.mark.parametrize(
    "fault",
    [
        HttpFault(status=503),
        HttpFault(status=500, abort_percent=12.5),
        HttpFault(delay=0.25, delay_percent=50),
        HttpFault(status=503, abort_percent=0.01, delay=2.0),
    ],
)
def test_the_filter_built_reads_back_as_its_fault(fault: HttpFault) -> None:
    obj = httpfault.envoy_filter("f", "default", {"app": "web"}, fault)
    assert obj["apiVersion"] == "networking.istio.io/v1alpha3"
    assert obj["spec"]["workloadSelector"] == {"labels": {"app": "web"}}
    patch = obj["spec"]["configPatches"][0]
    assert patch["match"]["context"] == "SIDECAR_INBOUND"
    assert patch["patch"]["value"]["name"] == "envoy.filters.http.fault"
    assert httpfault.inbound_fault(obj["spec"]) == fault


def _spec(context: str, config: dict[str, object]) -> dict[str, object]:
    value = {"name": httpfault.FAULT_FILTER, "typedConfig": config}
    return {
        "configPatches": [
            {
                "applyTo": "HTTP_FILTER",
                "match": {"context": context},
                "patch": {"operation": "INSERT_BEFORE", "value": value},
            }
        ]
    }


def test_camel_case_fields_and_denominators_are_read() -> None:
    config = {
        "abort": {
            "httpStatus": 502,
            "percentage": {"numerator": 25, "denominator": "HUNDRED"},
        },
        "delay": {"fixedDelay": "1.5s", "percentage": {"numerator": 500000,
                                                       "denominator": "MILLION"}},
    }  # fmt: skip
    assert httpfault.inbound_fault(_spec("SIDECAR_INBOUND", config)) == HttpFault(
        status=502, abort_percent=25.0, delay=1.5, delay_percent=50.0
    )


def test_outbound_and_malformed_filters_fault_nothing_inbound() -> None:
    abort = {"abort": {"http_status": 503}}
    assert httpfault.inbound_fault(_spec("SIDECAR_OUTBOUND", abort)) is None
    assert httpfault.inbound_fault(_spec("GATEWAY", abort)) is None
    assert httpfault.inbound_fault(_spec("ANY", abort)) == HttpFault(status=503)
    bad = {"delay": {"fixed_delay": "soon"}}
    assert httpfault.inbound_fault(_spec("SIDECAR_INBOUND", bad)) is None
    assert httpfault.inbound_fault({}) is None


def test_a_filter_selects_by_its_workload_labels_or_the_whole_namespace() -> None:
    spec = {"workloadSelector": {"labels": {"app": "web"}}}
    assert httpfault.selects(spec, {"app": "web", "version": "v1"})
    assert not httpfault.selects(spec, {"app": "api"})
    assert httpfault.selects({}, {"app": "api"})
    assert not httpfault.selects({"targetRefs": [{"kind": "Gateway"}]}, {})
