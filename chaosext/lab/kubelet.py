"""The kubelet of one cluster: runs scheduled pods as `PodServer`s, reports their
status (Running, then Ready after `timing.ready_after`), stops deleted pods after
`timing.terminate_after`, and applies the `refuse` fault by closing the listener.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from aiohttp import web

from chaosext.lab import events, kinds, podlogs, rest
from chaosext.lab.accesslog import ProxyLog
from chaosext.lab.objects import ADDRESS_ANNOTATION, FAULT_ANNOTATION, ROLE_ANNOTATION
from chaosext.lab.pacing import Pacer
from chaosext.lab.podserver import NO_FAULT, Fault, PodServer, parse_fault
from chaosext.lab.store import Event, Obj, Store, timestamp
from chaosext.lab.topology import Timing

log = logging.getLogger("meshdrill.lab.kubelet")

PodKey = tuple[str, str]  # namespace, name


def _conditions(now: str, ready: bool) -> list[dict[str, object]]:
    flag = "True" if ready else "False"
    return [
        {
            "type": name,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": now,
        }
        for name, status in (
            ("PodReadyToStartContainers", "True"),
            ("Initialized", "True"),
            ("Ready", flag),
            ("ContainersReady", flag),
            ("PodScheduled", "True"),
        )
    ]


def _container_statuses(
    pod: Obj, started_at: str, ready: bool
) -> list[dict[str, object]]:
    return [
        {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": f"{c.get('image', '')}@sha256:{'0' * 64}",
            "containerID": f"lab://{pod['metadata']['uid']}-{c['name']}",
            "ready": ready,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": started_at}},
            "lastState": {},
        }
        for c in pod["spec"]["containers"]
    ]


def is_ready(pod: Obj) -> bool:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


class Kubelet:
    """Runs the pods of one cluster (all its nodes) in this process."""

    def __init__(self, store: Store, timing: Timing) -> None:
        self.store = store
        self.timing = timing
        self.servers: dict[PodKey, PodServer] = {}
        self.proxy_logs: dict[PodKey, ProxyLog] = {}
        """Access logs of the proxy pods (waypoints) this kubelet runs
        (`accesslog`); `kubectl logs` shows them."""
        self._uids: dict[PodKey, str] = {}
        self._terminating: set[PodKey] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._stopped = False
        self.closing = asyncio.Event()  # set on stop: followed logs end
        self.sidecar_faults: dict[PodKey, Fault] = {}
        """Faults the pods' sidecars apply (EnvoyFilters: `sidecarfaults`, through
        `set_sidecar_faults`); a pod's own fault annotation, when it has one,
        comes first."""
        self.on_faults: Callable[[], None] | None = None
        """Told when `sidecar_faults` changed (`groundtruth`)."""
        self.on_delay: Callable[[PodKey, float, float], None] | None = None
        """Told (pod, start, end) of each request a pod's server delayed by its
        fault (`groundtruth`)."""
        self.pacer = Pacer()
        """Shared by the pods' tasks: pods that start or stop together take the
        loop a slice at a time (`pacing`)."""
        self.warming = True
        """While the lab starts, pods are Ready at once: the topology describes a
        cluster that is already running. Pods created later take `ready_after`."""
        store.subscribe(self._on_event)

    def address(self, namespace: str, name: str) -> tuple[str, int] | None:
        server = self.servers.get((namespace, name))
        return ("127.0.0.1", server.port) if server and server.port else None

    async def logs(self, request: web.Request, call: rest.Call) -> web.StreamResponse:
        """`pods/{name}/log` (see `podlogs`)."""
        return await podlogs.serve(request, call, self.store, self.log_of, self.closing)

    def log_of(self, key: PodKey) -> podlogs.HasLog | None:
        """The log `kubectl logs` shows for a pod: its server's, or its proxy's."""
        return self.servers.get(key) or self.proxy_logs.get(key)

    def proxy_log(self, key: PodKey) -> ProxyLog:
        """The access log of proxy pod `key` (made on first use)."""
        return self.proxy_logs.setdefault(key, ProxyLog())

    def _on_event(self, event: Event) -> None:
        if event.kind is kinds.POD:
            if event.type == "DELETED":
                meta = event.object["metadata"]
                self.proxy_logs.pop((meta["namespace"], meta["name"]), None)
            self._wake.set()

    def _record(self, pod: Obj, reason: str, message: str) -> None:
        """One Event per container, as the kubelet on the pod's node reports."""
        for container in pod["spec"].get("containers") or []:
            name = container["name"]
            events.record(
                self.store,
                pod,
                kinds.POD,
                reason,
                message.format(name, image=container.get("image", "")),
                "kubelet",
                host=pod["spec"].get("nodeName", ""),
                field_path=f"spec.containers{{{name}}}",
            )

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("kubelet task failed", exc_info=task.exception())

    async def run(self) -> None:
        """Reconcile whenever pods change, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.reconcile()

    def _pods(self) -> Iterator[Obj]:
        yield from list(self.store.objects(kinds.POD))

    async def reconcile(self) -> None:
        """Start, stop or fault each pod as its object says; the loop is handed
        over between pods (`pacing`): a pod that changed meanwhile is seen as it
        is now, one that went is left to the next pass."""
        present: set[PodKey] = set()
        for listed in self._pods():
            await self.pacer.turn()
            meta = listed["metadata"]
            key = (meta["namespace"], meta["name"])
            present.add(key)
            pod = self.store.peek(kinds.POD, *key)
            if pod is None:
                continue
            meta = pod["metadata"]
            if not pod["spec"].get("nodeName"):
                continue
            if self._uids.get(key) != meta["uid"]:
                if key in self._uids:  # same name, new pod: drop the old server
                    self._forget(key)
                self._uids[key] = meta["uid"]
                self._spawn(self._start(key, meta["uid"]))
            elif meta.get("deletionTimestamp"):
                if key not in self._terminating:
                    self._terminating.add(key)
                    self._record(pod, "Killing", "Stopping container {}")
                    grace = float(meta.get("deletionGracePeriodSeconds") or 0)
                    delay = min(self.timing.terminate_after, grace)
                    self._spawn(self._finish(key, meta["uid"], delay))
            else:
                self._apply_refuse(key)
        for key in [k for k in self._uids if k not in present]:
            self._forget(key)

    def _forget(self, key: PodKey) -> None:
        self._uids.pop(key, None)
        self._terminating.discard(key)
        server = self.servers.pop(key, None)
        if server is not None:
            self._spawn(server.ensure(False))

    def set_sidecar_faults(self, wanted: dict[PodKey, Fault]) -> None:
        """The pods' sidecar faults from now on."""
        changed = wanted != self.sidecar_faults
        self.sidecar_faults = wanted
        if changed and self.on_faults is not None:
            self.on_faults()

    def _delayed(self, key: PodKey, began: float, ended: float) -> None:
        if self.on_delay is not None:
            self.on_delay(key, began, ended)

    def fault(self, key: PodKey) -> Fault:
        pod = self.store.peek(kinds.POD, *key)
        if pod is None:
            return NO_FAULT
        own = parse_fault(
            (pod["metadata"].get("annotations") or {}).get(FAULT_ANNOTATION)
        )
        return own if own != NO_FAULT else self.sidecar_faults.get(key, NO_FAULT)

    def _apply_refuse(self, key: PodKey) -> None:
        server = self.servers.get(key)
        if server is None:
            return
        listen = not self.fault(key).refuse
        if listen != server.wanted:
            log.info("pod %s/%s: %s", *key, "listening" if listen else "refusing")
            self._spawn(server.ensure(listen))

    def _still(self, key: PodKey, uid: str) -> Obj | None:
        pod = self.store.peek(kinds.POD, *key)
        return pod if pod is not None and pod["metadata"]["uid"] == uid else None

    async def _start(self, key: PodKey, uid: str) -> None:
        pod = self._still(key, uid)
        if pod is None:
            return
        annotations = pod["metadata"].get("annotations") or {}
        address = ""
        if not annotations.get(ROLE_ANNOTATION):  # gateways and clients serve nothing
            server = PodServer(key[1], lambda: self.fault(key))
            server.on_delay = lambda began, ended: self._delayed(key, began, ended)
            self.servers[key] = server
            await server.ensure(True)
            if self._still(key, uid) is None:  # deleted while starting
                if self.servers.get(key) is server:
                    del self.servers[key]
                await server.ensure(False)
                return
            address = f"127.0.0.1:{server.port}"
        started = timestamp()

        def running(obj: Obj) -> None:
            if address:
                obj["metadata"].setdefault("annotations", {})[ADDRESS_ANNOTATION] = (
                    address
                )
            status = obj.setdefault("status", {})
            status.update(
                phase="Running",
                hostIP="127.0.0.1",
                hostIPs=[{"ip": "127.0.0.1"}],
                podIP="127.0.0.1",
                podIPs=[{"ip": "127.0.0.1"}],
                startTime=started,
                conditions=_conditions(started, False),
                containerStatuses=_container_statuses(obj, started, False),
            )

        await self.pacer.turn()
        if self._still(key, uid) is None or self._stopped:
            return
        pod = self.store.mutate(kinds.POD, *key, running)
        self._record(
            pod, "Pulled", 'Container image "{image}" already present on machine'
        )
        self._record(pod, "Created", "Created container: {}")
        self._record(pod, "Started", "Started container {}")
        await asyncio.sleep(0 if self.warming else self.timing.ready_after)
        await self.pacer.turn()
        pod = self._still(key, uid)
        if pod is None or pod["metadata"].get("deletionTimestamp") or self._stopped:
            return

        def ready(obj: Obj) -> None:
            now = timestamp()
            obj["status"]["conditions"] = _conditions(now, True)
            obj["status"]["containerStatuses"] = _container_statuses(obj, started, True)

        self.store.mutate(kinds.POD, *key, ready)

    async def _finish(self, key: PodKey, uid: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.pacer.turn()
        if self._still(key, uid) is None:
            return
        server = self.servers.pop(key, None)
        if server is not None:
            await server.ensure(False)
        if self._still(key, uid) is not None:
            self.store.delete(kinds.POD, *key)

    async def stop(self) -> None:
        self._stopped = True
        self.closing.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for server in list(self.servers.values()):
            await server.ensure(False)
        self.servers.clear()
