"""Probes: wait until a Deployment is really down, or really back.

Scaling a Deployment to zero (an istiod or gateway outage) is only a request:
the outage begins when its last pod is gone. A terminating istiod still serves
its proxies until it exits, so a drill that changes the mesh right after the
scale may see the change pushed after all. `deployment_stopped` waits for that
moment; `deployment_ready` for every replica of a restored Deployment to be
Ready (before a probe that reads the live mesh predicts from it).
"""

import time
from collections.abc import Callable
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, runcontext
from probes import arguments

__all__ = ["deployment_ready", "deployment_stopped"]

POLL = 0.2


class DeploymentState(TypedDict):
    context: str
    namespace: str
    deployment: str
    replicas: int
    ready_replicas: int
    pods: int
    observed: bool
    seconds: float


def deployment_stopped(
    deployment: str,
    namespace: str = "default",
    context: str = "",
    deadline: float = 60.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> DeploymentState | dict[str, Any]:
    """Wait until Deployment `namespace/deployment` has no pod left, terminating
    pods included (it was scaled to zero: its outage is now in effect).

    Polls the Deployment and the pods its selector matches until neither a ready
    replica nor any pod remains, or `deadline` seconds have passed.
    Returns context, namespace, deployment, replicas, ready_replicas, pods,
    observed (the controller saw the latest spec) and the seconds it waited.
    Fails (ActivityFailed) when pods remain at the deadline (the message counts
    them), when the Deployment is missing, or when the cluster cannot be reached.
    """

    def done(state: DeploymentState) -> bool:
        return state["ready_replicas"] == 0 and state["pods"] == 0

    return _wait(
        "deployment_stopped",
        "no pod left",
        done,
        deployment,
        namespace,
        context,
        deadline,
        configuration,
        secrets,
    )


def deployment_ready(
    deployment: str,
    namespace: str = "default",
    context: str = "",
    deadline: float = 120.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> DeploymentState | dict[str, Any]:
    """Wait until every replica of Deployment `namespace/deployment` is Ready.

    Done when the Deployment controller has seen its latest spec
    (`observedGeneration`), `spec.replicas` is above zero and as many replicas are
    ready, or fails once `deadline` seconds have passed. Returns as
    `deployment_stopped` does. Fails (ActivityFailed) at the deadline (the message
    gives ready and wanted replicas), when the Deployment is missing, or when the
    cluster cannot be reached.
    """

    def done(state: DeploymentState) -> bool:
        return state["observed"] and 0 < state["replicas"] <= state["ready_replicas"]

    return _wait(
        "deployment_ready",
        "every replica ready",
        done,
        deployment,
        namespace,
        context,
        deadline,
        configuration,
        secrets,
    )


def _wait(
    probe: str,
    goal: str,
    done: Callable[[DeploymentState], bool],
    deployment: str,
    namespace: str,
    context: str,
    deadline: Any,
    configuration: Configuration,
    secrets: Secrets,
) -> DeploymentState | dict[str, Any]:
    seconds = arguments.real("deadline", deadline, low=0.0)
    if annotations.is_dry_run(configuration):
        return {"deployment": deployment, "verdict": "skipped", "dry_run": True}
    what = f"deployment {namespace}/{deployment}"
    start = time.monotonic()
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            while True:
                state = _state(cluster, what, deployment, namespace)
                state["seconds"] = round(time.monotonic() - start, 3)
                if done(state):
                    return state
                if state["seconds"] >= seconds:
                    raise ActivityFailed(
                        f"{probe}: {what} in {cluster.describe()}: {goal} not seen"
                        f" within {seconds:g} s (replicas {state['replicas']},"
                        f" ready {state['ready_replicas']}, pods {state['pods']})"
                    )
                runcontext.raise_if_stopped(configuration)
                time.sleep(POLL)
    except clusters.ClusterError as exc:
        raise ActivityFailed(f"{probe}: {exc}") from exc


def _state(
    cluster: clusters.Cluster, what: str, name: str, namespace: str
) -> DeploymentState:
    obj = clusters.call(
        cluster, what, cluster.apps.read_namespaced_deployment, name, namespace
    )
    status = obj.status
    labels = (obj.spec.selector.match_labels or {}) if obj.spec.selector else {}
    if not labels:
        raise clusters.ClusterError(f"{what}: its selector has no matchLabels")
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = clusters.list_items(
        cluster,
        f"pods of {what}",
        cluster.core.list_namespaced_pod,
        namespace,
        label_selector=selector,
    )
    return DeploymentState(
        context=cluster.context,
        namespace=namespace,
        deployment=name,
        replicas=int(obj.spec.replicas or 0),
        ready_replicas=int(status.ready_replicas or 0),
        pods=len(pods),
        observed=(status.observed_generation or 0) >= (obj.metadata.generation or 0),
        seconds=0.0,
    )
