"""Sidecar faults from Istio EnvoyFilters, as istiod pushes them to the proxies.

An EnvoyFilter that inserts Envoy's HTTP fault filter into the inbound listener
(`chaosext.mesh.httpfault.inbound_fault`) makes the sidecar of every pod it
selects answer with that fault: the pods stay up and Ready, their servers answer
the configured status (or wait the configured delay) for the configured share of
requests, so callers see real upstream 5xx and their outlier detection ejects
them. A filter applies to the pods of its namespace its `workloadSelector`
selects (every pod without one); one in the root namespace (`istio-system`)
applies to every namespace. Changes take effect `timing.propagation` seconds
after the write, as config does after istiod's push. A pod's own lab fault
annotation, if any, comes first (`Kubelet.fault`).
"""

import asyncio
import logging
from typing import TYPE_CHECKING

from chaosext.lab import kinds
from chaosext.lab.kubelet import Kubelet, PodKey
from chaosext.lab.podserver import Fault
from chaosext.lab.store import Event, Store
from chaosext.mesh import httpfault

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.sidecarfaults")

ROOT_NAMESPACE = "istio-system"
ENVOY_FILTER = kinds.by_kind(f"{kinds.ISTIO}/v1alpha3", "EnvoyFilter")


def _filters(store: Store) -> list[tuple[str, dict[str, object], Fault]]:
    """(namespace, spec, fault) of each EnvoyFilter configuring an inbound fault."""
    assert ENVOY_FILTER is not None
    found = []
    for obj in store.objects(ENVOY_FILTER):
        spec = obj.get("spec") or {}
        fault = httpfault.inbound_fault(spec)
        if fault is not None:
            found.append((obj["metadata"]["namespace"], spec, _as_pod_fault(fault)))
    return found


def _as_pod_fault(fault: httpfault.HttpFault) -> Fault:
    return Fault(
        status=fault.status,
        delay=fault.delay,
        status_percent=fault.abort_percent,
        delay_percent=fault.delay_percent,
    )


def faults_of(store: Store) -> dict[PodKey, Fault]:
    """Each pod's sidecar fault (the first filter by namespace/name that selects it)."""
    filters = _filters(store)
    if not filters:
        return {}
    wanted: dict[PodKey, Fault] = {}
    for pod in store.objects(kinds.POD):
        meta = pod["metadata"]
        labels = meta.get("labels") or {}
        for namespace, spec, fault in filters:
            applies = namespace in (meta["namespace"], ROOT_NAMESPACE)
            if applies and httpfault.selects(spec, labels):
                wanted[(meta["namespace"], meta["name"])] = fault
                break
    return wanted


class SidecarFaults:
    """Keeps each cluster's kubelet's `sidecar_faults` in step with its filters."""

    def __init__(self, store: Store, kubelet: Kubelet, propagation: float) -> None:
        self.store = store
        self.kubelet = kubelet
        self.propagation = propagation
        self._pending: asyncio.TimerHandle | None = None
        store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind is kinds.POD:
            if not self.kubelet.sidecar_faults and not self._any_filter():
                return  # no filter in this cluster: a pod change changes nothing
        elif event.kind is not ENVOY_FILTER:
            return
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(self.propagation, self.reconcile)

    def _any_filter(self) -> bool:
        assert ENVOY_FILTER is not None
        return next(iter(self.store.objects(ENVOY_FILTER)), None) is not None

    def reconcile(self) -> None:
        self._pending = None
        wanted = faults_of(self.store)
        if wanted != self.kubelet.sidecar_faults:
            log.info("%s: sidecar faults on %d pods", self.store.cluster, len(wanted))
        self.kubelet.set_sidecar_faults(wanted)


async def attach(lab: "Lab") -> None:
    """Watch every cluster's EnvoyFilters (and pods) from now on."""
    for runtime in lab.clusters.values():
        watcher = SidecarFaults(
            runtime.store, runtime.kubelet, lab.topology.timing.propagation
        )
        watcher.reconcile()
