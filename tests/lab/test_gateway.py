"""The ingress gateway routes with the mesh model, over real HTTP, with EDS lag."""

import json
import socket
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import requests
import yaml

from chaosext import mesh
from chaosext.lab import runtime
from chaosext.lab.endpoints import EndpointView
from tests.labfixtures import (
    apps,
    core,
    custom,
    gateway_url,
    sample,
    topology_dict,
    wait_for,
)

StartLab = Callable[[dict[str, Any]], runtime.LabInfo]
FAULT = "lab.meshdrill.io/fault"


def pods_by_cluster(info: runtime.LabInfo) -> dict[str, str]:
    """Pod name -> cluster, for every pod of every cluster."""
    out = {}
    for context in info.clusters:
        pods = core(info, context).list_pod_for_all_namespaces()
        out.update({p.metadata.name: context for p in pods.items})
    return out


def by_cluster(info: runtime.LabInfo, seen: Counter[str]) -> Counter[str]:
    owner = pods_by_cluster(info)
    out: Counter[str] = Counter()
    for name, n in seen.items():
        out[owner.get(name, name)] += n
    return out


def scale(info: runtime.LabInfo, context: str, replicas: int) -> None:
    apps(info, context).patch_namespaced_deployment_scale(
        "hello-world", "default", {"spec": {"replicas": replicas}}
    )


def only_cluster_b(info: runtime.LabInfo, url: str) -> bool:
    return set(by_cluster(info, sample(url, 20))) == {"cluster-b"}


def test_guide_000_splits_50_50(lab000: runtime.LabInfo) -> None:
    """With the guide's DestinationRule both regions get about half the traffic."""
    counts = by_cluster(lab000, sample(gateway_url(lab000), 400))
    assert set(counts) == {"cluster-a", "cluster-b"}
    assert 0.4 <= counts["cluster-a"] / 400 <= 0.6


def test_region_outage_fails_over_and_back(start_lab_from: StartLab) -> None:
    """Scaling cluster-a to 0 moves all traffic to cluster-b; scaling back splits."""
    info = start_lab_from(topology_dict())
    url = gateway_url(info)
    wait_for(lambda: len(by_cluster(info, sample(url, 40))) == 2, message="both")
    scale(info, "cluster-a", 0)
    wait_for(lambda: only_cluster_b(info, url), message="100% cluster-b")
    counts = by_cluster(info, sample(url, 100))
    assert counts == Counter({"cluster-b": 100})
    scale(info, "cluster-a", 2)
    wait_for(
        lambda: len(by_cluster(info, sample(url, 40))) == 2, message="both clusters"
    )


def test_distribute_to_one_region_blackholes_when_it_is_gone(
    start_lab_from: StartLab,
) -> None:
    """A `distribute` that lists only europe-west1 gives 503s once cluster-a is 0."""
    data = topology_dict()
    rule = yaml.safe_load(data["resources"][-1]["manifest"])
    locality = rule["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
    locality["distribute"] = [{"from": "europe-west1", "to": {"europe-west1": 100}}]
    data["resources"][-1]["manifest"] = yaml.safe_dump(rule)
    info = start_lab_from(data)
    url = gateway_url(info)
    wait_for(lambda: set(by_cluster(info, sample(url, 20))) == {"cluster-a"})
    assert set(by_cluster(info, sample(url, 40))) == {"cluster-a"}
    scale(info, "cluster-a", 0)
    wait_for(
        lambda: sample(url, 10) == Counter({"status 503": 10}), message="only 503s"
    )


def test_destination_rule_changes_apply_live(start_lab_from: StartLab) -> None:
    """Replacing the DestinationRule through the API changes routing live."""
    info = start_lab_from(topology_dict())
    api = custom(info, "cluster-a")
    rule = api.get_namespaced_custom_object(
        "networking.istio.io", "v1", "default", "destinationrules", "hello-world"
    )
    to = rule["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
    to["distribute"][0]["to"] = {"us-central1": 100}
    api.replace_namespaced_custom_object(
        "networking.istio.io", "v1", "default", "destinationrules", "hello-world", rule
    )
    url = gateway_url(info)
    wait_for(lambda: only_cluster_b(info, url), message="the new rule routes to B")


def test_endpoint_view_lags_by_the_propagation_delay() -> None:
    """A pushed endpoint set becomes visible only `propagation` seconds later."""
    config = mesh.ServiceConfig("h")
    first: tuple[mesh.ServiceConfig, tuple[mesh.Endpoint, ...], dict[str, Any]] = (
        config,
        (),
        {},
    )
    endpoint = mesh.Endpoint("p1", "c1", "n1", mesh.Locality("r", "z"))
    view = EndpointView("h", "c1", 0.5, first)
    view.offer((config, (endpoint,), {"p1": ("127.0.0.1", 1)}), now=10.0)
    assert view.current(10.4).endpoints == ()
    assert view.current(10.5).endpoints == (endpoint,)


def pod_address(info: runtime.LabInfo, name: str) -> str:
    pod = core(info).read_namespaced_pod(name, "default")
    return str(pod.metadata.annotations["lab.meshdrill.io/address"])


def annotate(info: runtime.LabInfo, name: str, fault: dict[str, Any] | None) -> None:
    value = json.dumps(fault) if fault is not None else None
    core(info).patch_namespaced_pod(
        name, "default", {"metadata": {"annotations": {FAULT: value}}}
    )


def first_pod(info: runtime.LabInfo) -> str:
    pods = core(info).list_namespaced_pod("default", label_selector="app=hello-world")
    return str(pods.items[0].metadata.name)


def refused(address: str) -> bool:
    host, port = address.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_pod_answers_hello_and_hostname(lab000: runtime.LabInfo) -> None:
    """A pod answers its name on /hostname and the hello-app body elsewhere."""
    name = first_pod(lab000)
    address = pod_address(lab000, name)
    assert requests.get(f"http://{address}/hostname", timeout=5).text == name
    hello = requests.get(f"http://{address}/anything", timeout=5).text
    assert hello == f"Hello, world!\nVersion: 1.0.0\nHostname: {name}\n"


@pytest.mark.parametrize("status", [503, 500])
def test_status_fault_is_applied_and_healed(
    lab000: runtime.LabInfo, status: int
) -> None:
    """The fault annotation makes a pod answer a status; removing it heals it."""
    name = first_pod(lab000)
    url = f"http://{pod_address(lab000, name)}/hostname"
    annotate(lab000, name, {"status": status})
    try:
        assert requests.get(url, timeout=5).status_code == status
    finally:
        annotate(lab000, name, None)
    assert requests.get(url, timeout=5).text == name


def test_refuse_fault_closes_the_listener(lab000: runtime.LabInfo) -> None:
    """`{"refuse": true}` refuses connections; healing listens on the same port."""
    name = first_pod(lab000)
    address = pod_address(lab000, name)
    annotate(lab000, name, {"refuse": True})
    try:
        wait_for(lambda: refused(address), message="connection refused")
    finally:
        annotate(lab000, name, None)
    wait_for(lambda: not refused(address), message="listening again")
    assert requests.get(f"http://{address}/hostname", timeout=5).text == name


def test_refusing_pods_are_retried_and_ejected(start_lab_from: StartLab) -> None:
    """Connect failures are retried on other hosts: clients see no errors."""
    info = start_lab_from(topology_dict())
    url = gateway_url(info)
    wait_for(lambda: len(by_cluster(info, sample(url, 40))) == 2, message="both")
    pods = core(info).list_namespaced_pod("default", label_selector="app=hello-world")
    for pod in pods.items:
        annotate(info, pod.metadata.name, {"refuse": True})
    for pod in pods.items:
        address = pod.metadata.annotations["lab.meshdrill.io/address"]
        wait_for(partial(refused, address), message="connections refused")
    counts = by_cluster(info, sample(url, 60))
    assert counts == Counter({"cluster-b": 60})
