"""East-west gateways down: their network's endpoints unreachable from elsewhere.

Cross-network traffic enters a network through its east-west gateway
(`istio-system/istio-eastwestgateway` of a topology cluster with `eastwest:`).
When every east-west gateway of a network has no ready replica, proxies on other
networks fail to connect to that network's endpoints (connect failures: Envoy
retries them elsewhere and outlier detection counts them); proxies inside the
network still reach them. A gateway with a ready replica again reopens the way.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

from chaosext.lab import kinds
from chaosext.lab.store import Event, Store

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.eastwest")

NAMESPACE = "istio-system"
NAME = "istio-eastwestgateway"


def _ready(store: Store) -> bool:
    deploy = store.peek(kinds.DEPLOYMENT, NAMESPACE, NAME)
    status = (deploy or {}).get("status") or {}
    return int(status.get("readyReplicas", 0)) > 0


class EastWest:
    """Keeps `lab.networks_cut_off` in step with the east-west gateways."""

    def __init__(self, lab: "Lab") -> None:
        self.lab = lab
        self.networks: dict[str, list[str]] = {}  # network -> clusters with a gateway
        for spec in lab.topology.clusters:
            if spec.eastwest is not None:
                self.networks.setdefault(spec.network, []).append(spec.name)
        self._was_up: set[str] = set()  # a lab starting is not an outage
        self._handle: asyncio.Handle | None = None
        for name in {c for clusters in self.networks.values() for c in clusters}:
            lab.clusters[name].store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind is not kinds.DEPLOYMENT:
            return
        meta = event.object["metadata"]
        if (meta.get("namespace"), meta["name"]) != (NAMESPACE, NAME):
            return
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_soon(self.reconcile)

    def reconcile(self) -> None:
        self._handle = None
        cut_off = self.lab.networks_cut_off
        for network, clusters in self.networks.items():
            up = any(_ready(self.lab.clusters[c].store) for c in clusters)
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
