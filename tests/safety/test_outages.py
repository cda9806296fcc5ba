"""istiod and east-west gateway outages on a lab: recorded, effective, undone.

istiod down in cluster-a: cluster-a's proxies get no push (the ground truth shows
none) and keep the endpoints of pods that are gone; it returns, they get one.
cluster2's east-west gateway down: cluster1's client cannot reach cluster2's pods;
it returns, they answer again. Both restored by their restore action and by
`meshdrill recover`; istiod by the restore control after Ctrl-C mid-drill and by
`meshdrill recover` after kill -9 mid-drill.
"""

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext import recover
from chaosext.actions import outages, scale
from chaosext.annotations import RESTORE_KEY, RUN_ID_KEY
from chaosext.lab import groundtruth, runtime
from probes import deployments
from tests.lab import meshsample
from tests.labfixtures import apps, core, gateway_url, sample, wait_for
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, meshdrill, start_drill

pytestmark = pytest.mark.slow

HOST = "hello-world.default.svc.cluster.local"
GLOBAL_URL = "in-ambient.httpbin.mesh.internal:8000/hostname"


def _ready(lab: runtime.LabInfo, context: str, name: str, namespace: str) -> int:
    dep = apps(lab, context).read_namespaced_deployment(name, namespace)
    return int(dep.status.ready_replicas or 0)


def _routes(lab: runtime.LabInfo, cluster: str, since: float) -> list[dict[str, Any]]:
    """Pushes to `cluster`'s proxies for hello-world decided after `since`."""
    return [
        r
        for r in groundtruth.read(lab.state_dir)
        if r["type"] == "route"
        and r["cluster"] == cluster
        and r["host"] == HOST
        and r["at"] > since
    ]


def test_istiod_down_freezes_its_cluster_proxies_until_it_returns(
    lab: runtime.LabInfo,
) -> None:
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    wait_for(lambda: _ready(lab, "cluster-a", "istiod", "istio-system") == 1, 10)
    first = outages.control_plane_outage(context="cluster-a", configuration=config)
    again = outages.control_plane_outage(context="cluster-a", configuration=config)
    assert first["changed"]
    assert first["prior_replicas"] == 1
    assert not again["changed"]
    istiod = apps(lab, "cluster-a").read_namespaced_deployment("istiod", "istio-system")
    assert json.loads(istiod.metadata.annotations[RESTORE_KEY])["action"] == (
        "control_plane_outage"
    )
    wait_for(lambda: _ready(lab, "cluster-a", "istiod", "istio-system") == 0, 10)

    since = time.time()
    scale.scale_to_zero("hello-world", context="cluster-a", configuration=config)
    wait_for(lambda: labs.settled(lab), 20, "cluster-a's pods gone")
    # Stale endpoints: the gateway still holds cluster-a's pods, fails to connect
    # to them and retries elsewhere; only cluster-b answers.
    url = gateway_url(lab)
    assert set(sample(url, 20)) <= {
        p.metadata.name
        for p in core(lab, "cluster-b")
        .list_namespaced_pod("default", label_selector="app=hello-world")
        .items
    }
    assert _routes(lab, "cluster-a", since) == [], "no push while istiod is down"

    back = outages.restore_control_plane(context="cluster-a", configuration=config)
    assert back["changed"]
    assert back["replicas"] == 1
    pushed = wait_for(lambda: _routes(lab, "cluster-a", since), 20, "a push")
    assert pushed[-1]["ready"] == {"cluster-b": 2}
    scale.restore_replicas("hello-world", context="cluster-a", configuration=config)

    # kill -9 leaves istiod at zero: recover brings it back from its record.
    outages.control_plane_outage(
        context="cluster-a", configuration={**config, RUN_ID_KEY: "run-b"}
    )
    done = recover.recover(lab.kubeconfig, [], None)
    assert [(c["name"], c["action"], c["undone"]) for c in done["changes"]] == [
        ("istiod", "control_plane_outage", True)
    ]
    wait_for(lambda: _ready(lab, "cluster-a", "istiod", "istio-system") == 1, 10)


def test_an_eastwest_gateway_down_cuts_its_network_off(tmp_path: Path) -> None:
    config: dict[str, Any] = {RUN_ID_KEY: "run-a"}
    with meshsample.running_lab("guide-001", tmp_path) as lab:
        config["kubeconfig"] = str(lab.kubeconfig)
        remote = set(meshsample.pod_names(lab, "cluster2", "in-ambient", "httpbin"))
        scale.scale_to_zero("in-ambient", "httpbin", "cluster1", configuration=config)
        wait_for(lambda: labs.settled(lab), 20, "cluster1's pods gone")

        def answers() -> set[str]:
            return set(meshsample.sample_exec(lab, "cluster1", GLOBAL_URL, 10))

        wait_for(lambda: answers() <= remote, 10, "failover to cluster2")

        result = outages.gateway_outage(context="cluster2", configuration=config)
        assert result["deployment"] == "istio-eastwestgateway"
        assert result["changed"]
        wait_for(lambda: answers() == {meshsample.ERROR}, 10, "cluster2 cut off")

        back = outages.restore_gateway(context="cluster2", configuration=config)
        assert back["replicas"] == 1
        wait_for(lambda: answers() <= remote, 10, "cluster2 reachable again")

        outages.gateway_outage(
            context="cluster2", configuration={**config, RUN_ID_KEY: "run-b"}
        )
        done = recover.recover(lab.kubeconfig, ["cluster2"], None)
        assert [(c["name"], c["undone"]) for c in done["changes"]] == [
            ("istio-eastwestgateway", True)
        ]
        scale.restore_replicas(
            "in-ambient", "httpbin", "cluster1", configuration=config
        )


def _istiod(lab: runtime.LabInfo) -> Any:
    return apps(lab, "cluster-a").read_namespaced_deployment("istiod", "istio-system")


def test_ctrl_c_mid_drill_brings_istiod_back_without_rollbacks(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """SIGINT while istiod and cluster-a's workload are down, rollbacks off: the
    restore control finds both records (istio-system is the drill's
    `istiod_namespace`) and puts both back."""
    drill = start_drill(
        EXPERIMENTS / "control_plane_outage.json",
        tmp_path,
        lab,
        variables={"lab_topology": lab.topology, "consecutive": "1000"},
        options=("--rollback-strategy", "never"),
    )
    try:
        drill.until(lambda: labs.held(lab), 60, "cluster-a's workload held at zero")
        assert _istiod(lab).spec.replicas == 0
        drill.send(signal.SIGINT)
        done = drill.wait(timeout=15)
    finally:
        drill.stop()
    assert done.code != 0, done.output[-3000:]
    assert TRACEBACK not in done.output
    assert done.journal["rollbacks"] == []
    restored = done.notes["restore"]["restored"]
    assert sorted((c["namespace"], c["name"]) for c in restored) == [
        ("default", "hello-world"),
        ("istio-system", "istiod"),
    ]
    assert labs.restored(lab), labs.deployment(lab)
    istiod = _istiod(lab)
    assert istiod.spec.replicas == 1
    assert RESTORE_KEY not in (istiod.metadata.annotations or {})
    wait_for(lambda: _ready(lab, "cluster-a", "istiod", "istio-system") == 1, 10)


def test_recover_after_kill_9_mid_drill_brings_istiod_back(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """kill -9 while istiod and cluster-a's workload are down: nothing restores
    them; `meshdrill recover` does, from their records."""
    drill = start_drill(
        EXPERIMENTS / "control_plane_outage.json",
        tmp_path,
        lab,
        variables={"lab_topology": lab.topology, "consecutive": "1000"},
    )
    try:
        drill.until(lambda: labs.held(lab), 60, "cluster-a's workload held at zero")
        drill.send(signal.SIGKILL)
        assert drill.wait(timeout=10).code == -signal.SIGKILL
    finally:
        drill.stop()
    assert _istiod(lab).spec.replicas == 0

    done = meshdrill("recover", "--kubeconfig", str(lab.kubeconfig), tmp=tmp_path)
    assert done.code == 0, done.output
    assert "deployment istio-system/istiod" in done.output
    assert labs.restored(lab), labs.deployment(lab)
    assert _istiod(lab).spec.replicas == 1
    wait_for(lambda: _ready(lab, "cluster-a", "istiod", "istio-system") == 1, 10)


def test_deployment_probes_see_istiod_go_and_come_back(lab: runtime.LabInfo) -> None:
    """deployment_stopped returns once istiod's last pod is gone (and fails, naming
    the counts, while one is left); deployment_ready once it is Ready again."""
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-a"}
    istiod = {"deployment": "istiod", "namespace": "istio-system"}
    wait_for(lambda: _ready(lab, "cluster-a", "istiod", "istio-system") == 1, 10)
    with pytest.raises(
        ActivityFailed, match=r"no pod left not seen within 0 s .*pods 1"
    ):
        deployments.deployment_stopped(
            **istiod, context="cluster-a", deadline=0, configuration=config
        )
    outages.control_plane_outage(context="cluster-a", configuration=config)
    gone = deployments.deployment_stopped(
        **istiod, context="cluster-a", deadline=20, configuration=config
    )
    assert (gone["replicas"], gone["ready_replicas"], gone["pods"]) == (0, 0, 0)
    outages.restore_control_plane(context="cluster-a", configuration=config)
    back = deployments.deployment_ready(
        **istiod, context="cluster-a", deadline=20, configuration=config
    )
    assert (back["replicas"], back["ready_replicas"], back["pods"]) == (1, 1, 1)
