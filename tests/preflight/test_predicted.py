"""`expected: "predicted"`: split probes judged against the live config's prediction."""

from collections.abc import Callable
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.lab import runtime
from probes import predicted, split
from tests import labfixtures

G000_SOURCE = {
    "ingress": {"service": "istio-system/istio-ingressgateway", "context": "cluster-a"},
    "path": "/hostname",
    "extractor": "bare",
}
G000_WORKLOAD = {
    "contexts": ["cluster-a", "cluster-b"],
    "namespace": "default",
    "selector": "app=hello-world",
}
G001_SOURCE = {
    "exec": {
        "context": "cluster1",
        "namespace": "httpbin",
        "pod": "deploy/client-in-ambient",
    },
    "url": "in-ambient.httpbin.mesh.internal:8000/hostname",
    "extractor": "bare",
}
G001_WORKLOAD = {
    "contexts": ["cluster1", "cluster2"],
    "namespace": "httpbin",
    "selector": "app=in-ambient",
}
RULE = ("networking.istio.io", "v1", "default", "destinationrules", "hello-world")


def _configuration(info: runtime.LabInfo) -> dict[str, Any]:
    return {"kubeconfig": str(info.kubeconfig)}


def test_guide_000s_distribute_predicts_50_50_and_traffic_agrees(
    lab000: runtime.LabInfo,
):
    """The gateway's prediction is the DR's 50/50; the sampled split is within it."""
    config = _configuration(lab000)
    shares = predicted.expected_split(
        "predicted", G000_SOURCE, G000_WORKLOAD, "cluster", config, None
    )
    assert shares == pytest.approx({"cluster-a": 0.5, "cluster-b": 0.5})
    result = split.hostname_split(
        "predicted", G000_SOURCE, G000_WORKLOAD, by="cluster", configuration=config
    )
    assert result["verdict"] == "within", result["reasons"]


def test_prefer_close_predicts_the_client_zone_and_traffic_agrees(
    start_lab_from: Callable[[Any], runtime.LabInfo],
):
    """guide-001-preferclose from cluster 1's client: its zone only, by zone."""
    info = start_lab_from("guide-001-preferclose")
    config = _configuration(info)
    shares = predicted.expected_split(
        "predicted", G001_SOURCE, G001_WORKLOAD, "zone", config, None
    )
    assert shares == {"us-east-1a": 1.0}
    result = split.hostname_split(
        "predicted",
        G001_SOURCE,
        G001_WORKLOAD,
        by="zone",
        samples=100,
        configuration=config,
    )
    assert result["verdict"] == "within", result["reasons"]


def test_traffic_that_disagrees_with_the_config_is_outside_with_its_numbers(
    start_lab_from: Callable[[Any], runtime.LabInfo],
):
    """The DR now says 100% cluster A; the data plane has not had the push yet
    (propagation 12 s; 200 answers take well under a second), so traffic still
    splits 50/50: outside, with numbers."""
    data = labfixtures.topology_dict("guide-000", propagation=12.0)
    info = start_lab_from(data)
    custom = labfixtures.custom(info, "cluster-a")
    rule = custom.get_namespaced_custom_object(*RULE)
    lb = rule["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
    lb["distribute"][0]["to"] = {"europe-west1": 100}
    custom.replace_namespaced_custom_object(*RULE, rule)
    result = split.hostname_split(
        "predicted",
        G000_SOURCE,
        G000_WORKLOAD,
        by="cluster",
        samples=200,
        configuration=_configuration(info),
    )
    assert result["verdict"] == "outside"
    assert any("cluster-b" in r and "0.00" in r for r in result["reasons"]), result


def test_a_bare_url_source_names_no_client_to_predict_for():
    """One clear error: the prediction needs a client."""
    with pytest.raises(ActivityFailed, match="exec or ingress source"):
        predicted.expected_split(
            "predicted", {"url": "http://x/"}, G000_WORKLOAD, "cluster", {}, None
        )
