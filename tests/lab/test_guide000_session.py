"""Guide 000 ("Set up Multi-Cluster Mesh Failover", Cloud Service Mesh docs) as one
session on one guide-000 lab: steps 1-3's commands verbatim (bash, the guide's
heredocs, `kubectl apply` in the kubeconfig's current context, cluster A), then
the guide's Validate list: requests through cluster A's ingress gateway split
50/50, cluster A scaled to 0 sends 100% to cluster B, scaled back the split resumes.

The lab starts with hello-world deployed in both clusters and the ingress gateway
running (the guide's prerequisites), without the guide's Istio objects. The
Validate items are prose in the guide: they run here as `kubectl scale` and
requests to the gateway's LoadBalancer address.
"""

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import KUBECTL, gateway_url, kubectl_env, needs_kubectl, wait_for
from tests.labfixtures import sample as sample_gateway

pytestmark = [needs_kubectl, pytest.mark.slow]

STEPS = (
    """cat <<EOF> istio-ingressgateway.yaml
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: public-gateway
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - '*'
EOF

kubectl apply -f istio-ingressgateway.yaml""",
    """cat <<EOF> virtual-service.yaml
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: hello-world
  namespace: default
spec:
  hosts:
  - '*'
  gateways:
  - public-gateway
  http:
  - route:
    - destination:
        host: hello-world.default.svc.cluster.local
EOF

kubectl apply -f virtual-service.yaml""",
    """cat <<EOF> destination-rule.yaml
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: hello-world
  namespace: default
spec:
  host: hello-world.default.svc.cluster.local
  trafficPolicy:
    connectionPool:
      http:
        http2MaxRequests: 100
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 30s
      maxEjectionPercent: 100
    loadBalancer:
      localityLbSetting:
        enabled: true
        distribute:
        - from: europe-west1
          to:
            europe-west1: 50
            us-central1: 50
        - from: us-central1
          to:
            us-central1: 50
            europe-west1: 50
EOF

kubectl apply -f destination-rule.yaml""",
)


def prerequisites_only(data: dict[str, Any]) -> None:
    data.pop("resources", None)


def test_guide_000_runs_as_one_session(tmp_path: Path) -> None:
    with meshsample.running_lab("guide-000", tmp_path, prerequisites_only) as info:
        env = kubectl_env(info, tmp_path / "kubecache")
        env["PATH"] = f"{Path(str(KUBECTL)).parent}:/usr/bin:/bin"
        work = tmp_path / "work"
        work.mkdir()
        for script in STEPS:
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, (script, done.stderr)
            assert "created" in done.stdout
        validate(info, env)


def clusters_of(info: runtime.LabInfo, counts: Counter[str]) -> Counter[str]:
    """Answers (pod names) counted per cluster; anything else kept as is."""
    owner = {
        pod: context
        for context in info.clusters
        for pod in meshsample.pod_names(info, context, "hello-world", "default")
    }
    out: Counter[str] = Counter()
    for answer, n in counts.items():
        out[owner.get(answer, answer)] += n
    return out


def validate(info: runtime.LabInfo, env: dict[str, str]) -> None:
    url = gateway_url(info)

    def scale(replicas: int) -> None:
        subprocess.run(
            [
                str(KUBECTL),
                "scale",
                "deployment",
                "hello-world",
                f"--replicas={replicas}",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    # 1. Both clusters healthy: 50/50 (400 requests: each side 140-260 fails
    # with probability below 1e-9 when the split is even).
    split = clusters_of(info, sample_gateway(url, 400))
    assert set(split) == {"cluster-a", "cluster-b"}, split
    assert 140 <= split["cluster-a"] <= 260, split
    # 2-3. Cluster A scaled to 0: 100% cluster B.
    scale(0)
    wait_for(
        lambda: set(clusters_of(info, sample_gateway(url, 20))) == {"cluster-b"},
        20,
        "traffic fails over to cluster-b",
    )
    assert clusters_of(info, sample_gateway(url, 100)) == Counter({"cluster-b": 100})
    # 4. Cluster A back: the split resumes.
    scale(2)
    wait_for(
        lambda: (
            set(clusters_of(info, sample_gateway(url, 40)))
            == {"cluster-a", "cluster-b"}
        ),
        30,
        "the 50/50 split resumes",
    )
