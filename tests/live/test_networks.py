"""Cross-network reach, read from a running guide-001 lab: through cluster2's
east-west gateway while it has a ready pod, nowhere once it has none, directly on
one flat network; and the probe that says so in the drill's words."""

from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.actions import outages
from chaosext.annotations import RUN_ID_KEY
from chaosext.lab import runtime
from chaosext.live import networks, reader
from probes import reach
from tests.lab import meshsample
from tests.labfixtures import wait_for

pytestmark = pytest.mark.slow

URL = "in-ambient.httpbin.mesh.internal:8000/hostname"
HOST = "in-ambient.httpbin.mesh.internal"
CLIENT = "deploy/client-in-ambient"
SOURCE = {
    "exec": {"context": "cluster1", "namespace": "httpbin", "pod": CLIENT},
    "url": URL,
}
WORKLOAD = {"contexts": ["cluster1", "cluster2"], "namespace": "httpbin"}


def _reach(lab: runtime.LabInfo, target: str = "cluster2") -> networks.Reach:
    state = reader.read_mesh(lab.kubeconfig)
    return networks.reach(
        state, CLIENT, URL, target, context="cluster1", namespace="httpbin"
    )


def test_an_eastwest_gateway_down_leaves_its_network_unreachable(
    tmp_path: Path,
) -> None:
    """Gateway up: reachable through it; scaled to zero: unreachable, and why."""
    with meshsample.running_lab("guide-001", tmp_path) as lab:
        up = _reach(lab)
        assert (up.reachable, up.network, up.client_network) == (
            True,
            "cluster2-network",
            "cluster1-network",
        )
        assert up.endpoints == 2
        assert [(g.context, g.name, g.ready) for g in up.gateways] == [
            ("cluster2", "istio-eastwestgateway", 1)
        ]
        assert "through its east-west gateway istio-system/istio-eastwest" in up.why

        config: dict[str, Any] = {
            "kubeconfig": str(lab.kubeconfig),
            RUN_ID_KEY: "run-reach",
        }
        outages.gateway_outage(context="cluster2", configuration=config)
        down = wait_for(lambda: _unreachable(lab), 10, "cluster2 unreachable")
        assert down.endpoints == 2
        assert down.why == (
            f"cluster2's 2 ready endpoints of {HOST} are on network cluster2-network,"
            " behind its east-west gateway istio-system/istio-eastwestgateway in"
            " cluster2, which has no ready replica: "
            f"{down.client_pod} in cluster1, network cluster1-network cannot reach"
            " them"
        )
        found = reach.cross_network_reach("cluster2", SOURCE, WORKLOAD, **_c(config))
        assert (found["verdict"], found["passed"]) == ("within", True)
        assert found["finding"].startswith("failover to cluster2 has nowhere to go: ")
        wrong = reach.cross_network_reach(
            "cluster2", SOURCE, WORKLOAD, expect="reachable", **_c(config)
        )
        assert (wrong["verdict"], wrong["passed"]) == ("outside", False)
        assert wrong["reasons"][0].startswith("expected reachable, found unreachable")
        outages.restore_gateway(context="cluster2", configuration=config)


def _unreachable(lab: runtime.LabInfo) -> networks.Reach | None:
    found = _reach(lab)
    return None if found.reachable else found


def _c(config: dict[str, Any]) -> dict[str, Any]:
    return {"configuration": config}


def _flat(data: dict[str, Any]) -> None:
    """Both clusters on one network (Istio's multi-primary, same network)."""
    for cluster in data["clusters"]:
        cluster["network"] = "flat-network"


def test_on_one_network_the_gateway_is_not_in_the_way(tmp_path: Path) -> None:
    """One flat network: cluster2 is reached directly, gateway or not."""
    with meshsample.running_lab("guide-001", tmp_path, _flat) as lab:
        config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-flat"}
        outages.gateway_outage(context="cluster2", configuration=config)
        found = reach.cross_network_reach("cluster2", SOURCE, WORKLOAD, **_c(config))
        assert found["reachable"] is True
        assert found["verdict"] == "outside"
        assert "no east-west gateway in the way" in found["why"]
        outages.restore_gateway(context="cluster2", configuration=config)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"expect": "maybe"}, "argument 'expect' must be one of"),
        ({"source": {"url": URL}}, "needs an exec source"),
        ({"target": "cluster9"}, "is not in kubeconfig"),
    ],
)
def test_bad_arguments_name_the_field(
    tmp_path: Path, kwargs: dict[str, Any], words: str
) -> None:
    """A wrong expectation, source or context: one line naming it."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: cluster1\ncontexts:\n"
        "- name: cluster1\n  context: {cluster: c1, user: u}\n"
        "- name: cluster2\n  context: {cluster: c2, user: u}\n"
        "clusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:1'}\n"
        "- name: c2\n  cluster: {server: 'https://127.0.0.1:1'}\n"
        "users:\n- name: u\n  user: {token: t}\n"
    )
    arguments: dict[str, Any] = {
        "target": "cluster2",
        "source": SOURCE,
        "workload": WORKLOAD,
        **kwargs,
    }
    with pytest.raises(ActivityFailed, match=words):
        reach.cross_network_reach(
            **arguments, configuration={"kubeconfig": str(kubeconfig)}
        )
