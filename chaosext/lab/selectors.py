"""Kubernetes label selectors and field selectors, parsed from their query strings."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chaosext.lab.errors import ApiError

_SET_RE = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # "!=" and "notin" match objects that lack the label, as Kubernetes does.
        return not present or value not in self.values


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `in (...)` parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def parse_labels(text: str | None) -> list[Requirement]:
    """Parse a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`)."""
    requirements: list[Requirement] = []
    for part in _split_top_level(text or ""):
        eq = _EQ_RE.match(part)
        if eq:
            op = "=" if eq.group(2) == "==" else eq.group(2)
            requirements.append(Requirement(eq.group(1), op, (eq.group(3),)))
            continue
        match = _SET_RE.match(part)
        if not match:
            raise ApiError.bad_request(f"unable to parse requirement: {part.strip()!r}")
        negated, key, op, values = match.groups()
        if op:
            items = tuple(v.strip() for v in values.split(",") if v.strip())
            requirements.append(Requirement(key, op, items))
        else:
            requirements.append(Requirement(key, "!" if negated else "exists"))
    return requirements


def labels_match(requirements: list[Requirement], labels: Mapping[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)


def match_labels_selector(selector: Mapping[str, Any] | None) -> list[Requirement]:
    """A `metav1.LabelSelector` (matchLabels/matchExpressions) as requirements."""
    if not selector:
        return []
    requirements = [
        Requirement(k, "=", (v,))
        for k, v in (selector.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise ApiError.invalid(f"unsupported selector operator {expr!r}")
        requirements.append(
            Requirement(expr["key"], op, tuple(expr.get("values") or ()))
        )
    return requirements


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """The query-string form of a LabelSelector (as the Scale status shows it)."""
    parts = []
    for req in match_labels_selector(selector):
        if req.op == "=":
            parts.append(f"{req.key}={req.values[0]}")
        elif req.op in ("in", "notin"):
            parts.append(f"{req.key} {req.op} ({','.join(req.values)})")
        else:
            parts.append(req.key if req.op == "exists" else f"!{req.key}")
    return ",".join(parts)


FieldGetter = Callable[[dict[str, Any]], str]


def _involved(event: dict[str, Any], field: str) -> str:
    return str((event.get("involvedObject") or {}).get(field, ""))


_COMMON_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": lambda o: o["metadata"].get("name", ""),
    "metadata.namespace": lambda o: o["metadata"].get("namespace", ""),
}
FIELDS: dict[str, dict[str, FieldGetter]] = {
    "pods": {
        "spec.nodeName": lambda o: o.get("spec", {}).get("nodeName", ""),
        "status.phase": lambda o: o.get("status", {}).get("phase", ""),
        "spec.restartPolicy": lambda o: o.get("spec", {}).get("restartPolicy", ""),
        "spec.schedulerName": lambda o: o.get("spec", {}).get("schedulerName", ""),
        "spec.serviceAccountName": lambda o: o.get("spec", {}).get(
            "serviceAccountName", ""
        ),
        "status.podIP": lambda o: o.get("status", {}).get("podIP", ""),
    },
    "nodes": {
        "spec.unschedulable": lambda o: str(
            bool(o.get("spec", {}).get("unschedulable", False))
        ).lower(),
    },
    "namespaces": {"status.phase": lambda o: o.get("status", {}).get("phase", "")},
    "events": {
        "involvedObject.kind": lambda o: _involved(o, "kind"),
        "involvedObject.namespace": lambda o: _involved(o, "namespace"),
        "involvedObject.name": lambda o: _involved(o, "name"),
        "involvedObject.uid": lambda o: _involved(o, "uid"),
        "involvedObject.apiVersion": lambda o: _involved(o, "apiVersion"),
        "involvedObject.fieldPath": lambda o: _involved(o, "fieldPath"),
        "involvedObject.resourceVersion": lambda o: _involved(o, "resourceVersion"),
        "reason": lambda o: o.get("reason", ""),
        "reportingComponent": lambda o: o.get("reportingComponent", ""),
        "source": lambda o: (o.get("source") or {}).get("component", ""),
        "type": lambda o: o.get("type", ""),
    },
}


@dataclass(frozen=True)
class FieldRequirement:
    getter: FieldGetter
    negate: bool
    value: str

    def matches(self, obj: dict[str, Any]) -> bool:
        return (self.getter(obj) == self.value) != self.negate


def parse_fields(text: str | None, plural: str) -> list[FieldRequirement]:
    """Parse a field selector (`metadata.name=x,status.phase!=Running`)."""
    known = _COMMON_FIELDS | FIELDS.get(plural, {})
    requirements = []
    for part in _split_top_level(text or ""):
        match = _EQ_RE.match(part)
        if not match:
            raise ApiError.bad_request(f"invalid field selector: {part.strip()!r}")
        key, op, value = match.groups()
        if key not in known:
            raise ApiError.bad_request(
                f'field label not supported: {key} ("{plural}" supports: '
                f"{', '.join(sorted(known))})"
            )
        requirements.append(FieldRequirement(known[key], op == "!=", value))
    return requirements
