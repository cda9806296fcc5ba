"""Which DestinationRule applies to a host for a proxy: istiod's lookup, pure.

Follows [I] istio/istio 1.30 `pilot/pkg/model/push_context.go`
(`setDestinationRules`, `destinationRule`, `getExportedDestinationRuleFromNamespace`),
`pilot/pkg/model/destination_rule.go` (`mergeDestinationRule`),
`pilot/pkg/model/sidecar.go` (`SidecarScope.DestinationRule`: a rule whose
`workloadSelector` matches the proxy beats the catch-all), `pkg/config/host`
(`MostSpecificHostMatch`) and `pilot/pkg/model/config.go`
(`ResolveShortnameToFQDN`). Reference notes s.1.5b.

    found = lookup.destination_rule(rules, "reviews.shop.svc.cluster.local",
                                    proxy_namespace="front", service_namespace="shop")
    found.spec if found else None   # what goes into ServiceConfig.destination_rule
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaosext.mesh import names

PROXY_NAMESPACE = "proxy namespace"
SERVICE_NAMESPACE = "service namespace"
ROOT_NAMESPACE = "root namespace"


@dataclass(frozen=True)
class Rule:
    """One DestinationRule as the lookup needs it (`from_object` reads the API's).

    `created` is the creationTimestamp (RFC 3339 strings sort in time order): rules for
    the same host in one namespace merge oldest first.
    """

    name: str
    namespace: str
    spec: Mapping[str, Any] = field(hash=False)
    created: str = ""

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> "Rule":
        """A Rule from a DestinationRule object as the Kubernetes API returns it."""
        meta = obj.get("metadata") or {}
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            spec=dict(obj.get("spec") or {}),
            created=str(meta.get("creationTimestamp") or ""),
        )

    @property
    def host(self) -> str:
        """The rule's host, short names completed in its namespace."""
        return fqdn(str(self.spec.get("host", "")), self.namespace)

    @property
    def selector(self) -> Mapping[str, str] | None:
        """`workloadSelector.matchLabels`, or None when the rule has no selector."""
        raw = self.spec.get("workloadSelector")
        if not isinstance(raw, Mapping):
            return None
        return {str(k): str(v) for k, v in (raw.get("matchLabels") or {}).items()}

    def export_to(self) -> frozenset[str]:
        """`exportTo` as istiod indexes it: a rule with a selector is private."""
        if self.selector is not None:
            return frozenset({names.EXPORT_PRIVATE})
        return frozenset(str(e) for e in self.spec.get("exportTo") or ())


@dataclass(frozen=True)
class Found:
    """The DestinationRule that applies: its merged spec, and why it was chosen.

    `rules` are `namespace/name` of every rule merged into `spec` (oldest first);
    `step` is where it was found (`PROXY_NAMESPACE`, `SERVICE_NAMESPACE`,
    `ROOT_NAMESPACE`); `host` is the rule host that matched (may be a wildcard).
    """

    spec: Mapping[str, Any] = field(hash=False)
    rules: tuple[str, ...]
    namespace: str
    step: str
    host: str


def fqdn(host: str, namespace: str) -> str:
    """istiod's `ResolveShortnameToFQDN`: `reviews` -> `reviews.<ns>.svc.cluster.local`;
    names with a dot, `*` and IP addresses are left alone."""
    if not host or host == "*" or "." in host or ":" in host:
        return host
    return f"{host}.{namespace}.{names.CLUSTER_DOMAIN}" if namespace else host


def host_matches(needle: str, pattern: str) -> bool:
    """True when `pattern` (exact, `*.suffix` or `*`) matches the host `needle`."""
    if pattern.startswith("*"):
        return needle.endswith(pattern[1:])
    return needle == pattern


def most_specific_host(needle: str, hosts: Iterable[str]) -> str | None:
    """`MostSpecificHostMatch`: an exact host first, else the longest wildcard that
    matches (`*.ns.svc.cluster.local` beats `*.svc.cluster.local` beats `*`)."""
    hosts = list(hosts)
    if needle in hosts and not needle.startswith("*"):
        return needle
    wild = [h for h in hosts if h.startswith("*") and host_matches(needle, h)]
    return max(wild, key=len, default=None)


@dataclass
class _Merged:
    rules: list[Rule]
    export_to: frozenset[str]

    def spec(self) -> dict[str, Any]:
        """`mergeDestinationRule`: the first rule's spec; subsets with new names
        appended; the top-level trafficPolicy from the first rule that has one."""
        first = self.rules[0]
        out = dict(first.spec)
        subsets = list(out.get("subsets") or [])
        seen = {s.get("name") for s in subsets if isinstance(s, Mapping)}
        for rule in self.rules[1:]:
            for subset in rule.spec.get("subsets") or []:
                if isinstance(subset, Mapping) and subset.get("name") not in seen:
                    subsets.append(subset)
                    seen.add(subset.get("name"))
            if out.get("trafficPolicy") is None and rule.spec.get("trafficPolicy"):
                out["trafficPolicy"] = rule.spec["trafficPolicy"]
        if subsets:
            out["subsets"] = subsets
        return out


# namespace -> rule host -> merged rules (several only when selectors differ)
_Index = dict[str, dict[str, list[_Merged]]]


def _merge_into(index: _Index, rule: Rule) -> None:
    by_host = index.setdefault(rule.namespace, {})
    merged = by_host.setdefault(rule.host, [])
    export = rule.export_to()
    mine = rule.selector
    add = True
    for entry in merged:
        theirs = entry.rules[0].selector
        if mine is not None and theirs is not None and mine != theirs:
            continue  # both select, differently: kept apart
        if mine == theirs:
            add = False  # both catch-all, or the same selector: one entry
        entry.rules.append(rule)  # a catch-all also merges into selecting entries
        if not entry.export_to and export:
            entry.export_to = export
    if add:
        merged.append(_Merged([rule], export))


def _indexes(
    rules: Iterable[Rule], root_namespace: str, default_export_to: str
) -> tuple[_Index, _Index, _Index]:
    """(namespace-local, exported, root-private), as `setDestinationRules` has them."""
    local: _Index = {}
    exported: _Index = {}
    root_private: _Index = {}
    ordered = sorted(
        rules, key=lambda r: (r.selector is None, r.created, r.namespace, r.name)
    )
    for rule in ordered:
        export = rule.export_to()
        if (
            not export
            or names.DEFAULT_EXPORT_TO in export
            or names.EXPORT_PRIVATE in export
            or rule.namespace in export
        ):
            _merge_into(local, rule)
        private = (not export and default_export_to == names.EXPORT_PRIVATE) or (
            len(export) == 1
            and (names.EXPORT_PRIVATE in export or rule.namespace in export)
        )
        if not private:
            _merge_into(exported, rule)
        elif rule.namespace == root_namespace:
            _merge_into(root_private, rule)
    return local, exported, root_private


def _pick(
    entries: Sequence[_Merged], labels: Mapping[str, str], same_namespace: bool
) -> _Merged | None:
    """`SidecarScope.DestinationRule`: a rule whose selector matches the proxy
    (only from the proxy's own namespace), else the catch-all."""
    if same_namespace:
        for entry in entries:
            selector = entry.rules[0].selector
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                return entry
    return next((e for e in entries if e.rules[0].selector is None), None)


def _match(
    index: _Index,
    namespace: str,
    host: str,
    labels: Mapping[str, str],
    same_namespace: bool,
    visible_to: str | None,
) -> tuple[_Merged, str] | None:
    by_host = index.get(namespace) or {}
    matched = most_specific_host(host, by_host)
    if matched is None:
        return None
    entries = by_host[matched]
    if visible_to is not None:
        entries = [e for e in entries if _exported(e, visible_to)]
    entry = _pick(entries, labels, same_namespace)
    return (entry, matched) if entry is not None else None


def _exported(entry: _Merged, namespace: str) -> bool:
    """`getExportedDestinationRuleFromNamespace`: visible to the proxy's namespace."""
    export = entry.export_to
    return not export or names.DEFAULT_EXPORT_TO in export or namespace in export


def destination_rule(
    rules: Iterable[Rule],
    host: str,
    *,
    proxy_namespace: str,
    service_namespace: str,
    proxy_labels: Mapping[str, str] | None = None,
    root_namespace: str = names.ROOT_NAMESPACE,
    default_export_to: str = names.DEFAULT_EXPORT_TO,
) -> Found | None:
    """The DestinationRule istiod applies to `host` for a proxy, or None.

    1. The proxy's namespace (any rule there, private or exported); a proxy in the
       root namespace instead looks at the root namespace's private rules.
    2. The service's namespace: rules exported to the proxy's namespace.
    3. The root namespace: rules exported to the proxy's namespace.
    In each namespace the most specific host wins (exact, then the longest wildcard);
    rules for one host in one namespace merge oldest first (`Found.rules`).
    `proxy_labels` pick a rule with a matching `workloadSelector` in the proxy's
    own namespace. `default_export_to` is `meshConfig.defaultDestinationRuleExportTo`
    (`*` or `.`).
    """
    labels = proxy_labels or {}
    local, exported, root_private = _indexes(rules, root_namespace, default_export_to)
    steps: list[tuple[str, _Index, str, str | None]] = []
    if proxy_namespace != root_namespace:
        steps.append((PROXY_NAMESPACE, local, proxy_namespace, None))
    else:
        steps.append((ROOT_NAMESPACE, root_private, root_namespace, None))
    if service_namespace:
        steps.append((SERVICE_NAMESPACE, exported, service_namespace, proxy_namespace))
    steps.append((ROOT_NAMESPACE, exported, root_namespace, proxy_namespace))
    for step, index, namespace, visible_to in steps:
        found = _match(
            index,
            namespace,
            host,
            labels,
            namespace == proxy_namespace,
            visible_to,
        )
        if found is not None:
            entry, matched = found
            return Found(
                spec=entry.spec(),
                rules=tuple(f"{r.namespace}/{r.name}" for r in entry.rules),
                namespace=namespace,
                step=step,
                host=matched,
            )
    return None


def rules_for_host(rules: Iterable[Rule], host: str) -> list[Rule]:
    """Every rule whose host (exact or wildcard) matches `host`, in any namespace:
    what a user may think applies (lint compares it with `destination_rule`)."""
    return [r for r in rules if r.host and host_matches(host, r.host)]
