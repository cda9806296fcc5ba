"""Probe: can the client reach a cluster's endpoints across networks, and why.

Reads the live mesh once (`chaosext.live.reader`) and asks `chaosext.live.networks`:
the client's network, the target cluster's network and ready endpoints, and the
east-west gateways istiod knows for that network with their ready pods. It says
in words why traffic that fails over to that cluster has somewhere to go, or not.
"""

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters
from chaosext.live import networks, reader
from chaosext.live.state import StateError

__all__ = ["cross_network_reach"]

EXPECTATIONS = ("reachable", "unreachable")


def cross_network_reach(
    target: str,
    source: dict[str, Any],
    workload: dict[str, Any],
    expect: str = "unreachable",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether the source's client reaches the endpoints its host has in `target`.

    `target`: a kubeconfig context holding endpoints of the host (`source.url`'s,
    from the exec client pod `source.exec`). Reads every context of `workload`
    and the client's, once. The endpoints are reachable when they are on the
    client's network, or when an east-west gateway of their network (a Service
    labelled `topology.istio.io/network`) has a ready pod; unreachable when that
    network has no gateway with a ready pod, or `target` has no ready endpoint.
    `why` says which in words; with `expect: "unreachable"` and the endpoints
    unreachable, `finding` reads "failover has nowhere to go: ...".

    Verdict `within` when the reach is as `expect` says (`reachable` or
    `unreachable`), else `outside`. Suggested tolerance:
    {"type": "regex", "target": "verdict", "pattern": "^within$"}.
    Fails (ActivityFailed) when the source is not an exec client pod, or the mesh
    cannot be read (the message names the context, verb and resource).
    """
    if annotations.is_dry_run(configuration):
        return {"probe": "cross_network_reach", "verdict": "skipped", "dry_run": True}
    if expect not in EXPECTATIONS:
        raise ActivityFailed(
            f"argument 'expect' must be one of {', '.join(EXPECTATIONS)},"
            f" got {expect!r}"
        )
    spec = source.get("exec") if isinstance(source, dict) else None
    if not isinstance(spec, dict):
        raise ActivityFailed(
            "cross_network_reach needs an exec source (the client pod whose reach"
            " to check)"
        )
    context = str(spec.get("context", ""))
    contexts = [str(c) for c in workload.get("contexts") or []]
    try:
        kubeconfig = clusters.kubeconfig_path(configuration, secrets)
        state = reader.read_mesh(
            kubeconfig, dict.fromkeys([*contexts, context, str(target)])
        )
        found = networks.reach(
            state,
            str(spec.get("pod", "")),
            str(source.get("url", "")),
            str(target),
            context=context,
            namespace=str(spec.get("namespace", "")),
        )
    except (clusters.ClusterError, reader.ReadError) as exc:
        raise ActivityFailed(
            f"cross_network_reach: the mesh cannot be read: {exc}"
        ) from exc
    except StateError as exc:
        raise ActivityFailed(f"cross_network_reach: {exc}") from exc
    state_word = "reachable" if found.reachable else "unreachable"
    within = state_word == expect
    if not found.reachable:
        finding = f"failover to {target} has nowhere to go: {found.why}"
    else:
        finding = f"failover to {target} has somewhere to go: {found.why}"
    reason = finding if within else f"expected {expect}, found {state_word}: {finding}"
    return {
        "probe": "cross_network_reach",
        **found.to_json(),
        "expected": expect,
        "verdict": "within" if within else "outside",
        "passed": within,
        "finding": finding,
        "reasons": [reason],
    }
