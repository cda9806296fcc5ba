"""The lab's ground truth: when each proxy's routing changed, and when each pod
stopped (or started) answering, as JSON lines in `<state dir>/routing.jsonl`.

Recording starts once the lab has settled (`start`): first one `route` line per
proxy view as it stands, then one line per change. Times are Unix seconds
(`time.time()`, the clock drill journals use), to the microsecond. A lab started
in the state directory starts the file anew.

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
"""

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from chaosext import mesh
from chaosext.lab import kinds
from chaosext.lab.endpoints import ControlPlane, EndpointView, Snapshot
from chaosext.lab.kubelet import is_ready
from chaosext.lab.objects import ADDRESS_ANNOTATION, FAULT_ANNOTATION
from chaosext.lab.podserver import parse_fault
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


class GroundTruth:
    """Writes `routing.jsonl` from the control plane's pushes and pod events."""

    def __init__(self, path: Path, plane: ControlPlane) -> None:
        self.path = path
        self.plane = plane
        self._out: IO[str] | None = None
        self._pods: dict[tuple[str, str, str], bool] = {}
        self._created: dict[tuple[str, str, str], float] = {}

    def start(self, stores: Mapping[str, Store]) -> None:
        """Record from now on: every view as it stands, then every change."""
        self._out = self.path.open("w", encoding="utf-8")
        now = time.monotonic()
        for view in self.plane.views():
            self.snapshot(view, view.current(now), now)
        for cluster, store in stores.items():
            for pod in store.objects(kinds.POD):
                meta = pod["metadata"]
                key = (cluster, meta["namespace"], meta["name"])
                self._pods[key] = answering(pod)[0]
            store.subscribe(self._pod_listener(cluster))
        self.plane.recorder = self

    def stop(self) -> None:
        self.plane.recorder = None
        if self._out is not None:
            self._out.close()
            self._out = None

    def _write(self, line: dict[str, Any]) -> None:
        if self._out is not None:
            self._out.write(json.dumps(line, separators=(",", ":")) + "\n")
            self._out.flush()

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


def read(state_dir: Path | str) -> list[dict[str, Any]]:
    """Every record of a lab's state directory, oldest first ([] if none)."""
    path = Path(state_dir) / FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
