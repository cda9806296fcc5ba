"""Following one Deployment's readiness: what the lab's istiod plugin reacts to
(a component scaled to zero is an outage). East-west gateways are followed by
their Services and pods instead (`eastwest`)."""

import asyncio
from collections.abc import Callable

from chaosext.lab import kinds
from chaosext.lab.store import Event, Store

__all__ = ["follow", "has_ready_replica"]


def has_ready_replica(store: Store, namespace: str, name: str) -> bool:
    """Whether Deployment `namespace/name` has a ready replica (none stored: no)."""
    deploy = store.peek(kinds.DEPLOYMENT, namespace, name)
    status = (deploy or {}).get("status") or {}
    return int(status.get("readyReplicas") or 0) > 0


def follow(
    store: Store, namespace: str, name: str, reconcile: Callable[[], None]
) -> None:
    """Call `reconcile` soon after any change to Deployment `namespace/name`: once
    per turn of the event loop however many changes came in it."""
    pending: list[asyncio.Handle] = []

    def run() -> None:
        pending.clear()
        reconcile()

    def on_event(event: Event) -> None:
        if event.kind is not kinds.DEPLOYMENT or pending:
            return
        meta = event.object["metadata"]
        if (meta.get("namespace"), meta["name"]) == (namespace, name):
            pending.append(asyncio.get_running_loop().call_soon(run))

    store.subscribe(on_event)
