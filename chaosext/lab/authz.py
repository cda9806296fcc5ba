"""Who may do what: the lab's authorizer, its review APIs, and its request record.

The kubeconfig's user is `meshdrill-lab`. Without an `access:` list in the
topology it is a cluster admin (group `system:masters`), as a kind cluster's
user is; with one, it holds exactly those RBAC rules (same fields as a Role's
`rules`), so a drill's RBAC failures can be tested. A denied request gets the
API server's 403 Forbidden with its message. Discovery, /version and /openapi
are open to every authenticated user (`system:discovery`), as are the
self-reviews (`kubectl auth can-i`, `kubectl auth whoami`).

Every resource request is appended to `requests.jsonl` in the lab's state
directory (one JSON object per line: cluster, verb, group, resource,
subresource, namespace, name), so tests can derive least privilege from what a
drill really did. It is capped at 16 MiB: the older part moves to
`requests.jsonl.1` (`read_requests` reads both).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from chaosext.lab import cappedlog
from chaosext.lab.errors import ApiError

USER = "meshdrill-lab"
Rule = Mapping[str, tuple[str, ...]]
AUDIT_FILE = "requests.jsonl"
MAX_AUDIT_BYTES = cappedlog.MAX_BYTES
"""The cap of `requests.jsonl`: past it the file moves to `requests.jsonl.1`."""
RULE_FIELDS = ("apiGroups", "resources", "verbs", "resourceNames")


@dataclass(frozen=True)
class Attributes:
    """What one request does, as Kubernetes' RequestInfo sees it."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def full_resource(self) -> str:
        return (
            f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        )


def request_verb(method: str, named: bool, watch: bool) -> str:
    """The RBAC verb of an HTTP method on a named object or a collection."""
    if method in ("GET", "HEAD"):
        return "watch" if watch else "get" if named else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }.get(method, method.lower())


def _covers(values: Sequence[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def rule_allows(rule: Rule, attrs: Attributes) -> bool:
    resources = rule.get("resources", ())
    resource_ok = _covers(resources, attrs.full_resource) or (
        attrs.subresource != "" and f"{attrs.resource}/*" in resources
    )
    names = rule.get("resourceNames", ())
    return (
        _covers(rule.get("verbs", ()), attrs.verb)
        and _covers(rule.get("apiGroups", ()), attrs.group)
        and resource_ok
        and (not names or attrs.name in names)
    )


class Authorizer:
    """The user's rights: everything (None) or a list of RBAC rules."""

    def __init__(self, rules: Sequence[Rule] | None = None) -> None:
        self.rules = None if rules is None else tuple(rules)

    @property
    def groups(self) -> list[str]:
        admin = ["system:masters"] if self.rules is None else []
        return [*admin, "system:authenticated"]

    def allows(self, attrs: Attributes) -> bool:
        if self.rules is None:
            return True
        return any(rule_allows(rule, attrs) for rule in self.rules)

    def check(self, attrs: Attributes) -> None:
        """Raise the API server's 403 when the request is not allowed."""
        if self.allows(attrs):
            return
        group = attrs.group
        what = f"{attrs.resource}.{group}" if group else attrs.resource
        if attrs.name:
            what = f'{what} "{attrs.name}"'
        scope = (
            f'in the namespace "{attrs.namespace}"'
            if attrs.namespace
            else "at the cluster scope"
        )
        raise ApiError(
            403,
            f'{what} is forbidden: User "{USER}" cannot {attrs.verb} resource '
            f'"{attrs.full_resource}" in API group "{group}" {scope}',
            "Forbidden",
            {"name": attrs.name, "group": group, "kind": attrs.resource},
        )

    def review(self, kind: str, body: Any) -> dict[str, Any]:
        """The answer to a SelfSubject{Access,Rules}Review or SelfSubjectReview."""
        spec = (body or {}).get("spec") or {} if isinstance(body, dict) else {}
        if kind == "SelfSubjectReview":
            status: dict[str, Any] = {
                "userInfo": {"username": USER, "groups": self.groups}
            }
        elif kind == "SelfSubjectRulesReview":
            status = {
                "resourceRules": [
                    {k: list(v) for k, v in r.items()}
                    for r in self.rules or [_ADMIN_RULE]
                ],
                "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["*"]}],
                "incomplete": False,
            }
        else:
            status = self._access(spec)
        answer = {"metadata": {"creationTimestamp": None}, "status": status}
        if kind != "SelfSubjectReview":
            answer["spec"] = spec
        return answer

    def _access(self, spec: dict[str, Any]) -> dict[str, Any]:
        resource = spec.get("resourceAttributes")
        if not isinstance(resource, dict):  # non-resource URLs: discovery only
            path = (spec.get("nonResourceAttributes") or {}).get("path", "")
            allowed = self.rules is None or path.startswith(_OPEN_PATHS)
            return {"allowed": allowed}
        attrs = Attributes(
            verb=str(resource.get("verb", "")),
            group=str(resource.get("group", "")),
            resource=str(resource.get("resource", "")),
            subresource=str(resource.get("subresource", "")),
            namespace=str(resource.get("namespace", "")),
            name=str(resource.get("name", "")),
        )
        if self.rules is None:
            return {
                "allowed": True,
                "reason": 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of '
                'ClusterRole "cluster-admin" to Group "system:masters"',
            }
        return {"allowed": self.allows(attrs)}


_ADMIN_RULE: Rule = {"apiGroups": ("*",), "resources": ("*",), "verbs": ("*",)}
_OPEN_PATHS = ("/api", "/apis", "/version", "/openapi", "/healthz", "/livez")


class RequestLog:
    """Appends each resource request to `requests.jsonl` (line-buffered), capped
    as `cappedlog` says: past `max_bytes` the file moves to `requests.jsonl.1`
    (replacing the older one), so a lab keeps at most twice the cap on disk
    however long it runs."""

    def __init__(self, path: Path, max_bytes: int = MAX_AUDIT_BYTES) -> None:
        self._log = cappedlog.CappedLog(path, max_bytes)

    def write(self, cluster: str, attrs: Attributes) -> None:
        self._log.write({"cluster": cluster, **attrs.__dict__})

    def close(self) -> None:
        self._log.close()


def read_requests(state_dir: Path | str) -> list[dict[str, str]]:
    """The requests a lab recorded in `state_dir`, oldest first (the rotated part,
    then the current file; empty if none)."""
    return list(cappedlog.read_records(Path(state_dir) / AUDIT_FILE))


def is_watch(request: web.Request) -> bool:
    return request.query.get("watch", "").lower() in ("1", "true")
