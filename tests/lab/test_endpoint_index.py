"""The control plane's incremental endpoint index agrees, after every store event,
with recomputing each host's endpoints from every pod (what the lab did before it
became incremental), through random pod, Service and Node changes."""

import functools
import random
from typing import Any

from chaosext.lab import kinds
from chaosext.lab.endpointindex import EndpointIndex, service_hosts
from chaosext.lab.kubelet import is_ready
from chaosext.lab.objects import REGION_LABEL, ZONE_LABEL
from chaosext.lab.store import Event, Obj, Store

CLUSTERS = ("c1", "c2")
APPS = ("a", "b")


def node(name: str, zone: str) -> Obj:
    labels = {REGION_LABEL: "r", ZONE_LABEL: zone}
    return {"metadata": {"name": name, "labels": labels}, "spec": {}}


def pod(name: str, app: str, node_name: str | None, ready: bool) -> Obj:
    status = "True" if ready else "False"
    return {
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": app}},
        "spec": {"nodeName": node_name, "containers": [{"name": "c"}]},
        "status": {"conditions": [{"type": "Ready", "status": status}]},
    }


def service(name: str, app: str, global_: bool) -> Obj:
    labels = {"solo.io/service-scope": "global"} if global_ else {}
    return {
        "metadata": {"name": name, "namespace": "ns", "labels": labels},
        "spec": {"selector": {"app": app}},
    }


def naive(stores: dict[str, Store], host: str) -> list[tuple[str, str, bool, str]]:
    """Every selected, scheduled, non-terminating pod, by cluster, service, pod."""
    out: list[tuple[str, str, bool, str]] = []
    seen: set[str] = set()
    for cluster, store in stores.items():
        for svc in store.objects(kinds.SERVICE):
            if host not in service_hosts(svc):
                continue
            selector = svc["spec"].get("selector") or {}
            for p in store.objects(kinds.POD, svc["metadata"]["namespace"]):
                labels = p["metadata"].get("labels") or {}
                name = p["metadata"]["name"]
                if not selector or not p["spec"].get("nodeName") or name in seen:
                    continue
                if p["metadata"].get("deletionTimestamp"):
                    continue
                if any(labels.get(k) != v for k, v in selector.items()):
                    continue
                seen.add(name)
                zone = store.peek(kinds.NODE, "", p["spec"]["nodeName"])
                assert zone is not None
                out.append(
                    (cluster, name, is_ready(p), zone["metadata"]["labels"][ZONE_LABEL])
                )
    return sorted(out)


def indexed(index: EndpointIndex, host: str) -> list[tuple[str, str, bool, str]]:
    return sorted(
        (e.cluster, e.name, e.ready, e.locality.zone)
        for e in index.endpoints(host).endpoints
    )


def step(rng: random.Random, stores: dict[str, Store]) -> None:
    """One random write to one cluster."""
    store = stores[rng.choice(CLUSTERS)]
    roll = rng.random()
    name = f"p{rng.randrange(12)}"
    existing = store.peek(kinds.POD, "ns", name)
    if roll < 0.45:
        if existing is None:
            node_name = rng.choice([None, "n1", "n2"])
            store.create(
                kinds.POD, pod(name, rng.choice(APPS), node_name, rng.random() < 0.5)
            )
        else:
            store.delete(kinds.POD, "ns", name)
    elif roll < 0.8 and existing is not None:

        def change(obj: Any) -> None:
            what = rng.randrange(4)
            if what == 0:
                obj["metadata"]["labels"]["app"] = rng.choice(APPS)
            elif what == 1:
                obj["status"]["conditions"][0]["status"] = rng.choice(["True", "False"])
            elif what == 2:
                obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
            else:
                obj["spec"]["nodeName"] = rng.choice(["n1", "n2"])

        store.mutate(kinds.POD, "ns", name, change)
    elif roll < 0.92:
        svc = rng.choice(["sa", "sb"])
        if store.peek(kinds.SERVICE, "ns", svc) is None:
            store.create(
                kinds.SERVICE, service(svc, rng.choice(APPS), rng.random() < 0.5)
            )
        else:
            store.delete(kinds.SERVICE, "ns", svc)
    else:
        target = rng.choice(["n1", "n2"])

        def rezone(obj: Any) -> None:
            obj["metadata"]["labels"][ZONE_LABEL] = rng.choice(["z1", "z2", "z3"])

        store.mutate(kinds.NODE, "", target, rezone)


def test_the_index_matches_a_full_recompute_after_every_event() -> None:
    rng = random.Random(11)
    stores = {c: Store(c) for c in CLUSTERS}
    for store in stores.values():
        store.create(kinds.NODE, node("n1", "z1"))
        store.create(kinds.NODE, node("n2", "z2"))
        store.create(kinds.SERVICE, service("sa", "a", True))
    dirty: list[tuple[tuple[str, ...], bool]] = []
    index = EndpointIndex(
        stores,
        {},
        lambda c, ns, p: ("127.0.0.1", 1),
        lambda h, e: dirty.append((tuple(h), e)),
    )
    for cluster, store in stores.items():
        store.subscribe(functools.partial(index.on_event, cluster))
        for svc in list(store.objects(kinds.SERVICE)):
            index.on_event(cluster, _added(kinds.SERVICE, svc))
    hosts = [
        "sa.ns.svc.cluster.local",
        "sb.ns.svc.cluster.local",
        "sa.ns.mesh.internal",
        "sb.ns.mesh.internal",
    ]
    for _ in range(600):
        step(rng, stores)
        for host in hosts:
            assert indexed(index, host) == naive(stores, host), host
    assert any(endpoints for _, endpoints in dirty)


def _added(kind: Any, obj: Obj) -> Event:
    return Event("ADDED", kind, obj, None, 0)
