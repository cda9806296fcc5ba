"""Which proxies apply a VirtualService fault: a waypoint does, ztunnel does not,
and only in the cluster whose istiod has the VirtualService."""

from pathlib import Path

import pytest

from chaosext.actions import httpfault
from chaosext.annotations import RUN_ID_KEY
from tests.lab import meshsample
from tests.lab.test_client_proxy import answers
from tests.labfixtures import core, wait_for

pytestmark = pytest.mark.slow

GLOBAL = "in-ambient.httpbin.mesh.internal"


def test_a_waypoint_applies_it_and_ztunnel_ignores_it(tmp_path: Path) -> None:
    """guide-001-waypoint: cluster1's waypoint answers 503; cluster2's clients
    (their own waypoint, another istiod) are untouched; with the waypoint turned
    off, cluster1's ztunnel ignores the VirtualService."""
    with meshsample.running_lab("guide-001-waypoint", tmp_path) as lab:
        config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
        done = httpfault.inject_http_fault(
            host=GLOBAL, namespace="httpbin", context="cluster1", configuration=config
        )
        assert done["host"] == GLOBAL

        def statuses(context: str) -> set[str]:
            return set(answers(lab, context, "httpbin", "client-in-ambient"))

        wait_for(lambda: statuses("cluster1") == {"503"}, 10, "the waypoint's 503")
        assert statuses("cluster2") == {"200"}
        core(lab, "cluster1").patch_namespace(
            "httpbin", {"metadata": {"labels": {"istio.io/use-waypoint": None}}}
        )
        wait_for(lambda: statuses("cluster1") == {"200"}, 10, "ztunnel's answers")
        httpfault.clear_http_fault(
            host=GLOBAL, namespace="httpbin", context="cluster1", configuration=config
        )
