"""The drill's own RBAC: every verb it will use, asked with SelfSubjectAccessReview.

The verbs are the ones the drills call, preflight's reads included: the rules
the game-day manifest grants (`chaosext.gameday.rbac`). Each becomes one
`authorization.k8s.io/v1` SelfSubjectAccessReview, as `kubectl auth can-i` sends.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaosext.gameday import rbac
from chaosext.preflight.findings import FAIL, PASS, SKIP, Finding

__all__ = ["Access", "access_finding", "wanted"]


@dataclass(frozen=True)
class Access:
    """One question (verb, group, resource, namespace) and its answer."""

    verb: str
    group: str
    resource: str
    namespace: str = ""
    allowed: bool | None = None  # None: not asked yet
    reason: str = ""

    def describe(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        where = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{self.verb} {resource}{where}"

    def attributes(self) -> dict[str, str]:
        """`spec.resourceAttributes` of the SelfSubjectAccessReview."""
        resource, _, subresource = self.resource.partition("/")
        out = {"verb": self.verb, "group": self.group, "resource": resource}
        if subresource:
            out["subresource"] = subresource
        if self.namespace:
            out["namespace"] = self.namespace
        return out


def _expand(rules: Sequence[Mapping[str, Any]], namespace: str) -> list[Access]:
    return [
        Access(verb, group, resource, namespace)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    ]


def wanted(namespaces: Sequence[str]) -> list[Access]:
    """Every question to ask: cluster-wide rules once, namespaced ones per namespace."""
    out = _expand(rbac.CLUSTER_RULES, "")
    out += _expand(rbac.ROOT_RULES, rbac.ROOT_NAMESPACE)
    for namespace in dict.fromkeys(n for n in namespaces if n):
        out += _expand(rbac.NAMESPACED_RULES, namespace)
    return out


def access_finding(context: str, answers: Sequence[Access] | None) -> Finding:
    """One finding for a context: every verb allowed, or the ones missing.

    `answers` is None when the API server does not serve SelfSubjectAccessReview.
    """
    subject = "the drill's RBAC"
    if answers is None:
        return Finding(
            "rbac",
            context,
            SKIP,
            subject,
            "the API server does not serve SelfSubjectAccessReview"
            " (authorization.k8s.io/v1): not checked",
        )
    denied = [a for a in answers if not a.allowed]
    if denied:
        shown = "; ".join(
            a.describe() + (f" ({a.reason})" if a.reason else "") for a in denied
        )
        return Finding("rbac", context, FAIL, subject, f"{len(denied)} denied: {shown}")
    return Finding("rbac", context, PASS, subject, f"all {len(answers)} verbs allowed")
