"""The lab's ground truth: when each proxy's routing changed, and when each pod
stopped (or started) answering, as JSON lines in `<state dir>/routing.jsonl`.

Recording starts once the lab has settled (`start`): first one `route` line per
proxy view as it stands, then one line per change. Times are Unix seconds
(`time.time()`, the clock drill journals use), to the microsecond. A lab started
in the state directory starts the file anew. The file is capped (`cappedlog`):
past 16 MiB it moves to `routing.jsonl.1`, replacing the older part, so a lab
left running keeps at most 32 MiB of it; `read` reads both parts, oldest
first.

`route`: a proxy starts routing a host by a new endpoint set at `at` (the control
plane's push plus the topology's propagation delay; the line is written when the
push is made, so `at` may lie up to `propagation` s after the line is written):
    {"type": "route", "at": 1764443400.123456, "proxy": "gateway/istio-ingressgateway",
     "cluster": "cluster-a", "host": "hello-world.default.svc.cluster.local",
     "version": 7, "endpoints": 4, "ready": {"cluster-a": 2, "cluster-b": 2},
     "shares": {"cluster": {"cluster-a": 0.5, ...}, "region": {...}, "zone": {...}}}
`shares` are the fractions of requests the mesh model sends each cluster, region
and zone from that endpoint set before any outlier ejection (`{}`: every request
fails); a pod on another network reached through an east-west gateway counts with
the share that gateway's own choice gives it (`mesh.predict`). A client proxy's
view is made on its first request to a host.

`pod`: a serving pod stops or starts answering requests successfully at `at`
(the API write that deleted it, made its server refuse, or set a 5xx fault; the
kubelet closes a refusing listener within milliseconds of that write):
    {"type": "pod", "at": ..., "cluster": "cluster-a", "namespace": "default",
     "pod": "hello-world-...", "answering": false, "why": "deleted"}
A pod created while recording that starts answering also carries `since`: when
it was created (its API write), so `at - since` is how long the lab made anyone
waiting for it wait (scheduling, start, `ready_after`).

`ready` and `gone`: any pod (serving or not: istiod, gateways, clients too)
became Ready at `at` (the kubelet's status write), or its object went away at
`at` (deleted, after `terminate_after` when it was stopped gracefully). `since`
is when the lab was asked for it: the pod's creation for `ready` (absent for a
pod created before recording started), the delete request (its
`deletionTimestamp` first seen) for `gone`, so `at - since` is the wait the lab
imposed on whoever waited for the pod to come or go:
    {"type": "ready", "at": ..., "since": ..., "cluster": "cluster-a",
     "namespace": "istio-system", "pod": "istiod-..."}
    {"type": "gone", "at": ..., "since": ..., "cluster": ..., "namespace": ...,
     "pod": ...}

`fault`: the fault a pod's server applies to the requests it serves changed at
`at` (its fault annotation's API write, or its sidecar's EnvoyFilter fault taking
effect `propagation` s after the filter's write); `active` is whether any fault
is left. Delays and aborts apply to `delay_percent` / `status_percent` of the
requests:
    {"type": "fault", "at": ..., "cluster": "cluster-a", "namespace": "default",
     "pod": "hello-world-...", "active": true, "delay": 0.3,
     "delay_percent": 100.0, "status": null, "status_percent": 100.0,
     "refuse": false}
Faults on VirtualService routes (in the callers' proxies) are not recorded.

`delayed`: a pod's server held one request for its fault's delay, from `since`
to `at` (written when the delay ends; a request whose client went away first is
not written):
    {"type": "delayed", "at": ..., "since": ..., "cluster": "cluster-a",
     "namespace": "default", "pod": "hello-world-..."}
"""

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chaosext import mesh
from chaosext.lab import cappedlog, kinds
from chaosext.lab.endpoints import ControlPlane, EndpointView, Snapshot
from chaosext.lab.kubelet import Kubelet, PodKey, is_ready
from chaosext.lab.objects import ADDRESS_ANNOTATION, FAULT_ANNOTATION
from chaosext.lab.podserver import NO_FAULT, Fault, parse_fault
from chaosext.lab.store import Event, Obj, Store

FILE = "routing.jsonl"


def wall(monotonic_at: float) -> float:
    """A `time.monotonic()` moment as Unix time."""
    return time.time() + (monotonic_at - time.monotonic())


def shares(view: EndpointView, snapshot: Snapshot) -> dict[str, dict[str, float]]:
    """Expected request shares per cluster, region and zone for a view's proxy."""
    if view.proxy is None:
        return {}
    predicted = mesh.predict(view.proxy, snapshot.service, snapshot.endpoints)
    by_name = {e.name: e for e in snapshot.endpoints}
    out: dict[str, dict[str, float]] = {"cluster": {}, "region": {}, "zone": {}}
    for name, share in predicted.items():
        endpoint = by_name[name]
        for level, key in (
            ("cluster", endpoint.cluster),
            ("region", endpoint.locality.region),
            ("zone", endpoint.locality.zone),
        ):
            out[level][key] = out[level].get(key, 0.0) + share
    return {
        level: {k: round(v, 6) for k, v in sorted(values.items())}
        for level, values in out.items()
        if values
    }


def answering(pod: Obj | None) -> tuple[bool, str]:
    """Whether a pod's server answers successfully, and why not."""
    if pod is None:
        return False, "deleted"
    meta = pod["metadata"]
    if not (meta.get("annotations") or {}).get(ADDRESS_ANNOTATION):
        return False, "not serving"
    fault = parse_fault((meta.get("annotations") or {}).get(FAULT_ANNOTATION))
    if fault.refuse:
        return False, "refusing connections"
    if fault.status is not None and fault.status >= 500:
        return False, f"fault: status {fault.status}"
    if not is_ready(pod):
        return False, "not ready"
    return True, "answering"


def fault_line(fault: Fault) -> dict[str, Any]:
    """A pod's fault as a `fault` line's fields."""
    return {
        "active": fault != NO_FAULT,
        "delay": fault.delay,
        "delay_percent": fault.delay_percent,
        "status": fault.status,
        "status_percent": fault.status_percent,
        "refuse": fault.refuse,
    }


class GroundTruth:
    """Writes `routing.jsonl` from the control plane's pushes and pod events."""

    def __init__(self, path: Path, plane: ControlPlane) -> None:
        self.path = path
        self.plane = plane
        self._out = cappedlog.CappedLog(path)
        self._recording = False
        self._pods: dict[tuple[str, str, str], bool] = {}
        self._created: dict[tuple[str, str, str], float] = {}
        self._ready: dict[tuple[str, str, str], bool] = {}
        self._born: dict[tuple[str, str, str], float] = {}  # created while recording
        self._dying: dict[tuple[str, str, str], float] = {}  # delete asked
        self._faults: dict[tuple[str, str, str], Fault] = {}
        self._kubelets: Mapping[str, Kubelet] = {}

    def start(
        self, stores: Mapping[str, Store], kubelets: Mapping[str, Kubelet] | None = None
    ) -> None:
        """Record from now on: every view as it stands, then every change; with
        the clusters' `kubelets`, the pods' faults and delayed requests too."""
        self._out.start_anew()
        self._recording = True
        self._kubelets = kubelets or {}
        now = time.monotonic()
        for view in self.plane.views():
            self.snapshot(view, view.current(now), now)
        for cluster, store in stores.items():
            for pod in store.objects(kinds.POD):
                meta = pod["metadata"]
                key = (cluster, meta["namespace"], meta["name"])
                self._pods[key] = answering(pod)[0]
                self._ready[key] = is_ready(pod)
                self._fault_of(key, write=False)
            store.subscribe(self._pod_listener(cluster))
        for cluster, kubelet in self._kubelets.items():
            kubelet.on_faults = self._faults_listener(cluster, stores[cluster])
            kubelet.on_delay = self._delay_listener(cluster)
        self.plane.recorder = self

    def stop(self) -> None:
        self.plane.recorder = None
        for kubelet in self._kubelets.values():
            kubelet.on_faults = kubelet.on_delay = None
        self._recording = False
        self._out.close()

    def _write(self, line: dict[str, Any]) -> None:
        if self._recording:
            self._out.write(line)

    def snapshot(self, view: EndpointView, snapshot: Snapshot, at: float) -> None:
        """`view` routes by `snapshot` from monotonic time `at` on."""
        ready: dict[str, int] = {}
        for endpoint in snapshot.endpoints:
            if endpoint.ready:
                ready[endpoint.cluster] = ready.get(endpoint.cluster, 0) + 1
        proxy = view.proxy
        self._write(
            {
                "type": "route",
                "at": round(wall(at), 6),
                "proxy": f"{proxy.kind}/{proxy.name}" if proxy else "",
                "cluster": view.proxy_cluster,
                "host": view.host,
                "version": snapshot.version,
                "endpoints": len(snapshot.endpoints),
                "ready": dict(sorted(ready.items())),
                "shares": shares(view, snapshot),
            }
        )

    def _pod_listener(self, cluster: str) -> Any:
        def on_event(event: Event) -> None:
            if event.kind.key != kinds.POD.key:
                return
            self._lifecycle(cluster, event)
            meta = event.object["metadata"]
            key = (cluster, meta["namespace"], meta["name"])
            pod = None if event.type == "DELETED" else event.object
            now, why = answering(pod)
            before = self._pods.get(key)
            if pod is None:
                self._pods.pop(key, None)
                self._created.pop(key, None)
            else:
                self._pods[key] = now
                if event.type == "ADDED":
                    self._created[key] = time.time()
            if before is None and not now:
                return  # a new pod that does not answer yet: nothing stopped
            if before != now:
                line: dict[str, Any] = {
                    "type": "pod",
                    "at": round(time.time(), 6),
                    "cluster": cluster,
                    "namespace": key[1],
                    "pod": key[2],
                    "answering": now,
                    "why": why,
                }
                created = self._created.pop(key, None) if now else None
                if created is not None:
                    line["since"] = round(created, 6)
                self._write(line)

        return on_event

    def _pod_line(self, kind: str, key: tuple[str, str, str]) -> dict[str, Any]:
        cluster, namespace, name = key
        return {
            "type": kind,
            "at": round(time.time(), 6),
            "cluster": cluster,
            "namespace": namespace,
            "pod": name,
        }

    def _lifecycle(self, cluster: str, event: Event) -> None:
        """`ready`, `gone` and `fault` lines of any pod."""
        meta = event.object["metadata"]
        key = (cluster, meta["namespace"], meta["name"])
        if event.type == "DELETED":
            line = self._pod_line("gone", key)
            line["since"] = round(self._dying.pop(key, line["at"]), 6)
            self._write(line)
            for known in (self._ready, self._born, self._faults):
                known.pop(key, None)
            return
        if event.type == "ADDED":
            self._born[key] = time.time()
        if meta.get("deletionTimestamp") and key not in self._dying:
            self._dying[key] = time.time()
        ready = is_ready(event.object)
        if ready and not self._ready.get(key, False):
            line = self._pod_line("ready", key)
            born = self._born.pop(key, None)
            if born is not None:
                line["since"] = round(born, 6)
            self._write(line)
        self._ready[key] = ready
        self._fault_of(key)

    def _fault_of(self, key: tuple[str, str, str], write: bool = True) -> None:
        """Note pod `key`'s fault as its kubelet applies it; a line if it changed."""
        kubelet = self._kubelets.get(key[0])
        if kubelet is None:
            return
        fault = kubelet.fault((key[1], key[2]))
        before = self._faults.get(key, NO_FAULT)
        self._faults[key] = fault
        if write and fault != before:
            self._write(self._pod_line("fault", key) | fault_line(fault))

    def _faults_listener(self, cluster: str, store: Store) -> Callable[[], None]:
        def on_faults() -> None:
            for pod in store.objects(kinds.POD):
                meta = pod["metadata"]
                self._fault_of((cluster, meta["namespace"], meta["name"]))

        return on_faults

    def _delay_listener(self, cluster: str) -> Callable[[PodKey, float, float], None]:
        def on_delay(pod: PodKey, began: float, ended: float) -> None:
            line = self._pod_line("delayed", (cluster, *pod))
            line.update(at=round(ended, 6), since=round(began, 6))
            self._write(line)

        return on_delay


def read(state_dir: Path | str) -> list[dict[str, Any]]:
    """Every record a lab in `state_dir` kept, oldest first (the rotated part,
    then the current file; [] if none)."""
    return list(cappedlog.read_records(Path(state_dir) / FILE))
