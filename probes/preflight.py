"""Probe: is the live mesh the one this drill needs? Checked before anything changes.

Put it first in a tier's steady-state hypothesis: a drill on a wrong mesh then
fails at `before: preflight` with the finding, and its method never runs.
"""

from collections.abc import Mapping
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import clusters, runcontext
from chaosext.preflight import findings, run
from chaosext.preflight.needs import ClientRef, Target, tier_needs

__all__ = ["mesh_preflight"]


class PreflightResult(TypedDict):
    check: str
    verdict: str  # "passed" | "failed"
    passed: bool
    tier: str
    contexts: list[str]
    reasons: list[str]
    summary: dict[str, int]
    findings: list[dict[str, Any]]


def _client(source: Mapping[str, Any] | None) -> ClientRef | None:
    """The client a split probe's `source` samples from (exec pod or ingress)."""
    if not source:
        return None
    if "exec" in source:
        e = source["exec"]
        return ClientRef(
            str(e.get("context", "")),
            str(e.get("namespace", "default")),
            str(e.get("pod", "")),
        )
    if "ingress" in source:
        i = source["ingress"]
        namespace, _, name = str(i.get("service", "")).partition("/")
        if not namespace or not name:
            raise ActivityFailed(
                "argument 'source.ingress.service' must be 'namespace/name'"
            )
        return ClientRef(str(i.get("context", "")), namespace, f"svc/{name}")
    return None  # a bare URL: no client pod to look at


def mesh_preflight(
    service: str,
    workload: dict[str, Any],
    source: dict[str, Any] | None = None,
    tier: str = "",
    rbac: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> PreflightResult:
    """Check the live mesh is ready for the drill: `meshdrill mesh check` as a probe.

    `service` is the workload's Service name, in `workload.namespace`;
    `workload.contexts` are the contexts checked; `source` (as the split probes
    take it: an exec pod or an ingress Service) names the client; `tier` (e.g.
    `zone-failover`) says what the drill needs: ready pods in two zones of the
    client's region, a DestinationRule, outlier detection. Checks: node and
    east-west gateway locality labels, ready pods, the global ServiceEntry, the
    waypoint, the DestinationRule (present, valid, applying to the choosing
    proxy), outlier detection, and `rbac` (SelfSubjectAccessReview per verb).
    Once the method has started (the steady state after it), pods are where the
    drill left them: the placement need is not checked, the rest is.

    Suggested tolerance: {"type": "regex", "target": "verdict", "pattern": "^passed$"}.
    Returns the verdict, one reason per failed finding, and every finding.
    Fails (ActivityFailed) when a context cannot be read or an argument is wrong.
    """
    if not isinstance(workload, Mapping) or not workload.get("contexts"):
        raise ActivityFailed("argument 'workload' needs 'contexts' and 'namespace'")
    context = runcontext.of(configuration)
    after = context is not None and context.method_started
    try:
        tier_needs(tier)
        target = Target(
            str(workload.get("namespace", "default")),
            service,
            _client(source),
            tier,
            placement=not after,
        )
        contexts = list(dict.fromkeys([str(c) for c in workload["contexts"]]))
        if target.client is not None and target.client.context not in contexts:
            contexts.append(target.client.context)
        found = run.check(
            contexts, target, configuration, secrets, check_access=bool(rbac)
        )
    except clusters.ClusterError as exc:
        raise ActivityFailed(f"mesh_preflight: {exc}") from exc
    failed = findings.failures(found)
    return {
        "check": "mesh_preflight",
        "verdict": "failed" if failed else "passed",
        "passed": not failed,
        "tier": tier,
        "contexts": contexts,
        "reasons": [f.line() for f in failed],
        "summary": findings.summary(found),
        "findings": [f.to_json() for f in found],
    }
