"""Mesh infrastructure outages: istiod, or a gateway, scaled to zero in one cluster.

- `control_plane_outage`: istiod down in one context. The proxies keep their last
  configuration: endpoints that go away meanwhile stay in it (connect failures,
  which outlier detection counts) until istiod is back.
- `gateway_outage`: a cluster's east-west gateway (or its ingress gateway) down:
  every endpoint of its network is unreachable from the other networks.

Both are `scale_to_zero` on another Deployment (`chaosext.actions.scale`): the prior
replica count is recorded on the Deployment before it is scaled, so the restore
actions, the restore control and `meshdrill recover` put it back.
"""

from chaoslib.types import Configuration, Secrets

from chaosext import annotations
from chaosext.actions import scale

__all__ = [
    "control_plane_outage",
    "gateway_outage",
    "restore_control_plane",
    "restore_gateway",
]

ISTIOD = "istiod"
ISTIO_SYSTEM = "istio-system"
EASTWEST_GATEWAY = "istio-eastwestgateway"


def control_plane_outage(
    context: str = "",
    namespace: str = ISTIO_SYSTEM,
    deployment: str = ISTIOD,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> scale.ScaleResult | annotations.Plan:
    """Scale istiod (Deployment `deployment` in `namespace`) to zero in one context.

    Idempotent; recorded before it changes anything. Fails (ActivityFailed) when
    the Deployment is missing (a revisioned install names it `istiod-<rev>`), the
    cluster cannot be reached, or another drill holds it.
    """
    return scale.zero(
        deployment, namespace, context, configuration, secrets, "control_plane_outage"
    )


def restore_control_plane(
    context: str = "",
    namespace: str = ISTIO_SYSTEM,
    deployment: str = ISTIOD,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> scale.ScaleResult | annotations.Plan:
    """Put istiod back to the replica count `control_plane_outage` recorded on it.

    Idempotent: with no record on the Deployment there is nothing to restore
    (`changed` false); a record of another run is left to that run or to
    `meshdrill recover`. Fails (ActivityFailed) when the Deployment is missing or
    the cluster cannot be reached.
    """
    return scale.restore(
        deployment, namespace, context, configuration, secrets, "restore_control_plane"
    )


def gateway_outage(
    context: str = "",
    gateway: str = EASTWEST_GATEWAY,
    namespace: str = ISTIO_SYSTEM,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> scale.ScaleResult | annotations.Plan:
    """Scale a gateway Deployment (default the east-west gateway) to zero.

    `gateway`: `istio-eastwestgateway`, `istio-ingressgateway`, or your gateway's
    Deployment name. Idempotent; recorded before it changes anything. Fails
    (ActivityFailed) as `control_plane_outage` does.
    """
    return scale.zero(
        gateway, namespace, context, configuration, secrets, "gateway_outage"
    )


def restore_gateway(
    context: str = "",
    gateway: str = EASTWEST_GATEWAY,
    namespace: str = ISTIO_SYSTEM,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> scale.ScaleResult | annotations.Plan:
    """Put the gateway back to the replica count `gateway_outage` recorded on it.

    Idempotent: with no record on the Deployment there is nothing to restore
    (`changed` false); a record of another run is left to that run or to
    `meshdrill recover`. Fails (ActivityFailed) when the Deployment is missing or
    the cluster cannot be reached.
    """
    return scale.restore(
        gateway, namespace, context, configuration, secrets, "restore_gateway"
    )
