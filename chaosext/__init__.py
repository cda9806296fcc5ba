"""meshdrill's Chaos Toolkit extension: failover drills for multi-cluster meshes."""

from chaoslib.discovery.discover import (
    discover_actions,
    discover_probes,
    initialize_discovery_result,
)
from chaoslib.types import DiscoveredActivities, Discovery

__version__ = "0.1.0"
__all__ = ["__version__", "discover"]

ACTION_MODULES: tuple[str, ...] = (
    "chaosext.actions.scale",
    "chaosext.actions.zone",
    "chaosext.actions.pods",
    "chaosext.actions.faults",
    "chaosext.actions.conformance",
    "chaosext.actions.httpfault",
    "chaosext.actions.outages",
)
PROBE_MODULES: tuple[str, ...] = (
    "probes.split",
    "probes.waiting",
    "probes.preflight",
    "probes.deployments",
    "probes.reach",
)


def discover(discover_system: bool = True) -> Discovery:
    """Describe every action and probe of meshdrill for `chaos discover`."""
    discovery = initialize_discovery_result(
        "meshdrill", __version__, "kubernetes-service-mesh"
    )
    activities: list[DiscoveredActivities] = []
    for module in ACTION_MODULES:
        activities.extend(discover_actions(module))
    for module in PROBE_MODULES:
        activities.extend(discover_probes(module))
    discovery["activities"].extend(activities)
    return discovery
