"""istiod as a Deployment per cluster, and what its absence does to the proxies.

Every cluster with an `istio-system` namespace gets the Deployment
`istio-system/istiod` (1 replica) unless the topology declares one. While a
cluster's istiod has no ready replica, that cluster's proxies receive no endpoint
or config pushes (`ControlPlane.paused`): they keep routing by their last
configuration, so endpoints that go away meanwhile stay in it (connect failures,
which outlier detection counts as errors). When istiod has a ready replica again,
every proxy gets a full push, after the usual propagation delay.
"""

import logging
from typing import TYPE_CHECKING

from chaosext.lab import deploywatch, kinds, objects
from chaosext.lab.store import Obj, Store

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.istiod")

NAMESPACE = "istio-system"
NAME = "istiod"
LABELS = {"app": "istiod", "istio": "pilot"}


def istiod_deployment() -> Obj:
    container = {
        "name": "discovery",
        "image": "docker.io/istio/pilot:1.30.3",
        "ports": [{"containerPort": 15012, "protocol": "TCP"}],
    }
    return objects.deployment(
        NAME, NAMESPACE, LABELS, 1, container, {objects.ROLE_ANNOTATION: "istiod"}
    )


def is_up(store: Store) -> bool:
    """Whether the cluster's istiod has a ready replica (no Deployment: down)."""
    return deploywatch.has_ready_replica(store, NAMESPACE, NAME)


class Istiod:
    """Pauses and resumes the pushes to one cluster's proxies."""

    def __init__(self, lab: "Lab", cluster: str, store: Store) -> None:
        self.lab = lab
        self.cluster = cluster
        self.store = store
        self._was_up = False  # a lab starting is not an outage
        deploywatch.follow(store, NAMESPACE, NAME, self.reconcile)

    def reconcile(self) -> None:
        plane = self.lab.control_plane
        down = not is_up(self.store)
        self._was_up = self._was_up or not down
        if down and self._was_up and self.cluster not in plane.paused:
            log.info(
                "istiod of %s is down: its proxies keep their config", self.cluster
            )
            plane.pause(self.cluster)
        elif not down and self.cluster in plane.paused:
            log.info("istiod of %s is back: full push", self.cluster)
            plane.resume(self.cluster)


async def attach(lab: "Lab") -> None:
    """Seed istiod where istio-system exists, and follow its readiness from now on."""
    from chaosext.lab.lab import seed

    for name, runtime in lab.clusters.items():
        store = runtime.store
        if store.peek(kinds.NAMESPACE, "", NAMESPACE) is None:
            continue  # no mesh control plane modelled in this cluster
        if store.peek(kinds.DEPLOYMENT, NAMESPACE, NAME) is None:
            seed(store, istiod_deployment())
        Istiod(lab, name, store)
