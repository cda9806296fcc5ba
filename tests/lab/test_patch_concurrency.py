"""A PATCH without resourceVersion applies to the latest object, never conflicts.

A real API server retries such a patch internally; the lab must too, or drills
flake whenever a controller updates the object while a patch is in flight.
"""

import http.client
import json
import ssl

import pytest

from chaosext.lab import runtime
from tests.labfixtures import apps

PATHS = {
    "scale": "/apis/apps/v1/namespaces/default/deployments/hello-world/scale",
    "deployment": "/apis/apps/v1/namespaces/default/deployments/hello-world",
}


@pytest.mark.parametrize("target", sorted(PATHS))
def test_a_patch_whose_body_arrives_after_another_update_succeeds(
    lab000: runtime.LabInfo, target: str
):
    """Headers sent, the object changes meanwhile, then the body: 200, not 409."""
    host, port = lab000.clusters["cluster-a"].removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(lab000.state_dir / "ca.crt"))
    body = json.dumps({"spec": {"replicas": 2}}).encode()
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    conn.putrequest("PATCH", PATHS[target])
    conn.putheader("Authorization", f"Bearer {lab000.token}")
    conn.putheader("Content-Type", "application/merge-patch+json")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    # Someone else updates the Deployment while our body is still on its way.
    apps(lab000).patch_namespaced_deployment(
        "hello-world",
        "default",
        {"metadata": {"annotations": {"example.com/touched": "yes"}}},
    )
    conn.send(body)
    response = conn.getresponse()
    assert response.status == 200, response.read()[:300]
