"""The mesh model: Istio/Envoy/ztunnel locality routing as pure code (no I/O).

Modules: `types` (values), `settings` (which locality setting applies), `priorities`
(istiod's priorities and weights), `cla` (`assignment`), `envoy` (priority load, panic,
locality weights), `outlier` (outlier detection), `ztunnel`, `router` (`Router`),
`shares` (`predict`), `validate`, `explanation` (`explain`), `durations`,
`names` (well-known labels, annotations and defaults), `lookup` (which
DestinationRule applies: istiod's lookup), `kube` (how istiod reads Kubernetes
objects), `whatif` (predictions with endpoints down or ejected, `split`,
`as_json`), `lint` (single-rule lint checks), `networks` (split-horizon EDS:
other networks through their east-west gateways).
"""

from chaosext.mesh.cla import assignment
from chaosext.mesh.durations import parse_duration
from chaosext.mesh.explanation import explain
from chaosext.mesh.router import DEFAULT_RETRIES, Router
from chaosext.mesh.shares import predict
from chaosext.mesh.types import (
    Assignment,
    Endpoint,
    Group,
    Locality,
    LocalitySetting,
    NetworkGateway,
    Outlier,
    Proxy,
    ServiceConfig,
)
from chaosext.mesh.validate import validate_destination_rule

__all__ = [
    "DEFAULT_RETRIES",
    "Assignment",
    "Endpoint",
    "Group",
    "Locality",
    "LocalitySetting",
    "NetworkGateway",
    "Outlier",
    "Proxy",
    "Router",
    "ServiceConfig",
    "assignment",
    "explain",
    "parse_duration",
    "predict",
    "validate_destination_rule",
]
