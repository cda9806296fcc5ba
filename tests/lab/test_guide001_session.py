# ruff: noqa: E501  (the guide's command lines are kept whole)
"""Guide 001 ("Multicluster zone and region failover", Gloo Mesh/Solo.io docs) as one
session on one guide-001 lab: the guide's shell commands verbatim (bash, kubectl,
`context1`/`context2` set as the guide asks), in the guide's order, each outcome
the guide states asserted.

The lab starts where step 2's two `kubectl apply -f https://...` leave a cluster
(the apps deployed; they need the internet, so the topology stands for them): the
namespace and Service are not labelled yet. Step 6's waypoint logs carry Envoy
access lines: the topology turns access logging on (`mesh: accessLogFile`), as the
guide's example output shows the vendor mesh does.
"""

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import groundtruth, runtime
from chaosext.lab.cli import api_get
from tests.lab import meshsample
from tests.labfixtures import KUBECTL, kubectl_env, needs_kubectl, wait_for

pytestmark = [needs_kubectl, pytest.mark.slow]

CURL10 = """kubectl --context=${context1} exec -n httpbin deploy/client-in-ambient -- sh -c "
  for i in \\$(seq 1 10); do
    curl -s in-ambient.httpbin.mesh.internal:8000/hostname
    echo
  done" | sort | uniq -c"""


def unlabelled(data: dict[str, Any]) -> None:
    """guide-001 before step 2's labels; slower pods so step 4's zone failover
    is seen before the replacement pod is Ready."""
    data["timing"] = {"ready_after": 3.0, "propagation": 0.3, "terminate_after": 0.1}
    for ns in data["namespaces"]:
        if isinstance(ns, dict):
            ns.get("labels", {}).pop("istio.io/dataplane-mode", None)
    for workload in data["workloads"]:
        workload["service"]["labels"].pop("solo.io/service-scope", None)


class Session:
    def __init__(self, info: runtime.LabInfo, cache: Path) -> None:
        self.info = info
        self.env = kubectl_env(info, cache) | {
            "context1": "cluster1",
            "context2": "cluster2",
            "PATH": f"{Path(str(KUBECTL)).parent}:/usr/bin:/bin",
        }

    def sh(self, script: str) -> str:
        done = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (script, done.stdout, done.stderr)
        return done.stdout

    def answers(self) -> Counter[str]:
        """Guide step 4's request loop (`| sort | uniq -c`), as pod -> count."""
        counts: Counter[str] = Counter()
        for line in self.sh(CURL10).splitlines():
            count, _, name = line.strip().partition(" ")
            if name:
                counts[name] += int(count)
        return counts

    def pods(self, context: str) -> dict[str, str]:
        """Running in-ambient pod -> its node's zone, in one cluster."""
        nodes = {
            n["metadata"]["name"]: n["metadata"]["labels"][meshsample.ZONE]
            for n in meshsample.items(self.info, context, "/api/v1/nodes")
        }
        path = "/api/v1/namespaces/httpbin/pods?labelSelector=app%3Din-ambient"
        return {
            p["metadata"]["name"]: nodes[p["spec"]["nodeName"]]
            for p in meshsample.items(self.info, context, path)
            if (p.get("status") or {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")
        }


@pytest.fixture
def session(tmp_path: Path) -> Any:
    with meshsample.running_lab("guide-001", tmp_path, unlabelled) as info:
        yield Session(info, tmp_path / "kubecache")


def only(answers: Counter[str], pods: dict[str, str], zone: str | None = None) -> bool:
    return bool(answers) and all(
        name in pods and (zone is None or pods[name] == zone) for name in answers
    )


def test_guide_001_runs_as_one_session(session: Session) -> None:
    s = session
    # Step 1: locality labels on nodes and on the east-west gateways.
    nodes = s.sh(
        """for ctx in ${context1} ${context2}; do
  echo "=== Cluster: $ctx ==="
  kubectl --context=$ctx get nodes -o custom-columns=\\
'NAME:.metadata.name,REGION:.metadata.labels.topology\\.kubernetes\\.io/region,ZONE:.metadata.labels.topology\\.kubernetes\\.io/zone'
done"""
    )
    for region, zone in (("us-east-1", "us-east-1a"), ("us-west-2", "us-west-2b")):
        assert any(region in line and zone in line for line in nodes.splitlines())
    for ctx, labels in (
        ("context1", ("cluster1-network", "us-east-1", "us-east-1a")),
        ("context2", ("cluster2-network", "us-west-2", "us-west-2a")),
    ):
        shown = s.sh(
            f"kubectl --context=${{{ctx}}} get deploy -n istio-system "
            'istio-eastwestgateway -o yaml | grep -A3 "topology.istio.io"'
        )
        assert f"topology.istio.io/network: {labels[0]}" in shown
        assert f"topology.kubernetes.io/region: {labels[1]}" in shown
        assert f"topology.kubernetes.io/zone: {labels[2]}" in shown

    # Step 2: pods run; label the namespace and the Service; the ServiceEntry.
    pods = s.sh(
        """for ctx in ${context1} ${context2}; do
  echo "=== Cluster: $ctx ==="
  kubectl --context=$ctx get pods -n httpbin
done"""
    )
    assert pods.count("Running") == 6  # 2 in-ambient + 1 client, per cluster
    s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx label ns httpbin istio.io/dataplane-mode=ambient
done"""
    )
    s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx label service in-ambient -n httpbin solo.io/service-scope=global
done"""
    )
    entries = s.sh(
        """for ctx in ${context1} ${context2}; do
  echo "=== Cluster: $ctx ==="
  kubectl --context=$ctx get serviceentry -n istio-system | grep in-ambient
done"""
    )
    assert entries.count("autogen.httpbin.in-ambient") == 2, entries
    for context in s.info.clusters:  # the HOSTS column is the API's table's
        entry = api_get(
            s.info,
            s.info.clusters[context],
            "/apis/networking.istio.io/v1/namespaces/istio-system/serviceentries/"
            "autogen.httpbin.in-ambient",
        )
        assert entry["spec"]["hosts"] == ["in-ambient.httpbin.mesh.internal"]

    # Step 3: PreferNetwork keeps traffic in cluster1; scaled to 0, cluster2.
    cluster1, cluster2 = s.pods("cluster1"), s.pods("cluster2")
    assert only(s.answers(), cluster1)
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=0"
    )
    wait_for(lambda: only(s.answers(), cluster2), 20, "step 3: failover to cluster2")
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=1"
    )

    # Step 4: two zones; PreferClose keeps the client's zone, then its region.
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=2"
    )
    wait_for(lambda: len(set(s.pods("cluster1").values())) == 2, 20, "two zones")
    wide = s.sh(
        "kubectl --context=${context1} get pods -n httpbin -l app=in-ambient -o wide"
    )
    assert "cluster1-node-1" in wide
    assert "cluster1-node-2" in wide
    s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx annotate service in-ambient -n httpbin \\
    networking.istio.io/traffic-distribution=PreferClose --overwrite
done"""
    )
    wait_for(lambda: meshsample.all_ready(s.info), 20, "cluster1 pods ready")
    cluster1 = s.pods("cluster1")
    wait_for(lambda: only(s.answers(), cluster1, "us-east-1a"), 20, "same zone")
    deleted = s.sh(
        """POD_SAME_ZONE=$(kubectl --context=${context1} get pod -n httpbin -l app=in-ambient -o jsonpath='{.items[0].metadata.name}')
kubectl --context=${context1} delete pod -n httpbin $POD_SAME_ZONE
echo $POD_SAME_ZONE"""
    ).split()[-1]
    survivors = {k: v for k, v in cluster1.items() if k != deleted}
    zone = "us-east-1b" if cluster1[deleted] == "us-east-1a" else "us-east-1a"
    wait_for(lambda: only(s.answers(), survivors, zone), 20, "step 4: zone failover")
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=0"
    )
    wait_for(lambda: only(s.answers(), cluster2), 20, "step 4: region failover")
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=2"
    )

    # Step 5: the waypoint Gateway makes a waypoint; traffic goes through it.
    s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx apply -f- <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: httpbin-waypoint
  namespace: httpbin
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
    allowedRoutes:
      namespaces:
        from: Same
EOF
done"""
    )
    s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx label namespace httpbin istio.io/use-waypoint=httpbin-waypoint
done"""
    )
    rollout = s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx -n httpbin rollout status deployment/httpbin-waypoint
done"""
    )
    assert rollout.count('deployment "httpbin-waypoint" successfully rolled out') == 2
    wait_for(lambda: meshsample.all_ready(s.info), 20, "cluster1 back at 2")
    answer = s.sh(
        "kubectl --context=${context1} exec -n httpbin deploy/client-in-ambient -- \\\n"
        "  curl -s in-ambient.httpbin.mesh.internal:8000/hostname"
    )
    assert answer.strip() in s.pods("cluster1") | s.pods("cluster2")
    records = groundtruth.read(s.info.state_dir)
    assert any(
        r["type"] == "route"
        and r["proxy"] == "waypoint/httpbin-waypoint"
        and r["cluster"] == "cluster1"
        for r in records
    ), "the request did not go through cluster1's waypoint"

    # Step 6: the DestinationRule; cluster1 at 0 fails over to cluster2 by it.
    s.sh(
        """for ctx in ${context1} ${context2}; do
  kubectl --context=$ctx apply -f- <<EOF
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: in-ambient-failover
  namespace: httpbin
spec:
  host: in-ambient.httpbin.mesh.internal
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        failoverPriority:
          - topology.kubernetes.io/zone
          - topology.kubernetes.io/region
      simple: ROUND_ROBIN
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 3m
      maxEjectionPercent: 50
EOF
done"""
    )
    rules = s.sh(
        "kubectl --context=${context1} get destinationrule -n httpbin\n"
        "kubectl --context=${context2} get destinationrule -n httpbin"
    )
    assert rules.count("in-ambient-failover") == 2
    cluster1 = s.pods("cluster1")
    wait_for(lambda: only(s.answers(), cluster1, "us-east-1a"), 20, "waypoint zone")
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=0"
    )
    wait_for(lambda: only(s.answers(), cluster2), 20, "step 6: failover by the rule")
    # The waypoint's logs show the requests it sent to cluster 2 (Envoy format).
    logs = s.sh(
        "kubectl --context=${context1} logs -n httpbin deploy/httpbin-waypoint "
        "| tail -20"
    )
    last = logs.strip().splitlines()[-1]
    assert '"GET /hostname HTTP/1.1" 200 - via_upstream' in last, logs
    assert "inbound-vip|8000|http|in-ambient.httpbin.mesh.internal" in last, logs
    s.sh(
        "kubectl --context=${context1} scale deployment in-ambient -n httpbin "
        "--replicas=2"
    )
