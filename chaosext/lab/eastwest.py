"""East-west gateways down: their network's endpoints unreachable from elsewhere.

Cross-network traffic enters a network through its east-west gateway
(`istio-system/istio-eastwestgateway` of a topology cluster with `eastwest:`).
When every east-west gateway of a network has no ready replica, proxies on other
networks fail to connect to that network's endpoints (connect failures: Envoy
retries them elsewhere and outlier detection counts them); proxies inside the
network still reach them. A gateway with a ready replica again reopens the way.
"""

import logging
from typing import TYPE_CHECKING

from chaosext.lab import deploywatch

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.eastwest")

NAMESPACE = "istio-system"
NAME = "istio-eastwestgateway"


class EastWest:
    """Keeps `lab.networks_cut_off` in step with the east-west gateways."""

    def __init__(self, lab: "Lab") -> None:
        self.lab = lab
        self.networks: dict[str, list[str]] = {}  # network -> clusters with a gateway
        for spec in lab.topology.clusters:
            if spec.eastwest is not None:
                self.networks.setdefault(spec.network, []).append(spec.name)
        self._was_up: set[str] = set()  # a lab starting is not an outage
        for name in {c for clusters in self.networks.values() for c in clusters}:
            deploywatch.follow(
                lab.clusters[name].store, NAMESPACE, NAME, self.reconcile
            )

    def reconcile(self) -> None:
        cut_off = self.lab.networks_cut_off
        for network, clusters in self.networks.items():
            up = any(
                deploywatch.has_ready_replica(
                    self.lab.clusters[c].store, NAMESPACE, NAME
                )
                for c in clusters
            )
            if up:
                self._was_up.add(network)
                if network in cut_off:
                    log.info("network %s reachable again", network)
                    cut_off.discard(network)
            elif network in self._was_up and network not in cut_off:
                log.info("east-west gateway of %s down: cut off", network)
                cut_off.add(network)


async def attach(lab: "Lab") -> None:
    """Follow the east-west gateways' readiness from now on."""
    EastWest(lab)
