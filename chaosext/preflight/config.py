"""Pure checks of the mesh's configuration: the global ServiceEntry, the
DestinationRule a client's choosing proxy applies, and its outlier detection.

Guide 001 step 2: a Service labelled `solo.io/service-scope=global` gets a
ServiceEntry `autogen.<ns>.<svc>` in `istio-system` for `<svc>.<ns>.mesh.internal`.
Guide 000 step 3 and guide 001 step 6 apply the DestinationRule; Istio fails over
by priority only when the rule sets `outlierDetection` (DESIGN s.7, rule 4).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from chaosext.mesh import ServiceConfig, names, validate_destination_rule
from chaosext.mesh.settings import applicable_setting
from chaosext.mesh.validate import WARNING
from chaosext.preflight.findings import FAIL, PASS, SKIP, Finding
from chaosext.preflight.needs import TierNeeds

__all__ = [
    "GLOBAL_SCOPE_LABEL",
    "destination_rule",
    "global_host",
    "global_service_entry",
    "outlier_detection",
]

Obj = Mapping[str, Any]
GLOBAL_SCOPE_LABEL = names.SERVICE_SCOPE
ROOT_NAMESPACE = names.ROOT_NAMESPACE


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def is_global(service: Obj) -> bool:
    return (_meta(service).get("labels") or {}).get(
        GLOBAL_SCOPE_LABEL
    ) == names.SERVICE_SCOPE_GLOBAL


def global_host(service: Obj) -> str:
    meta = _meta(service)
    return f"{meta['name']}.{meta['namespace']}.{names.GLOBAL_DOMAIN}"


def global_service_entry(
    context: str, service: Obj, entries: Sequence[Obj] | None
) -> Finding | None:
    """A global Service has its `autogen` ServiceEntry; None for other Services.

    `entries`: the ServiceEntries of `istio-system`, or None when the API does
    not serve the kind.
    """
    if not is_global(service):
        return None
    meta = _meta(service)
    name = f"autogen.{meta['namespace']}.{meta['name']}"
    host = global_host(service)
    subject = f"serviceentry {ROOT_NAMESPACE}/{name}"
    if entries is None:
        return Finding(
            "global-serviceentry",
            context,
            FAIL,
            subject,
            "the API does not serve ServiceEntry (networking.istio.io): is Istio"
            " installed in this cluster?",
        )
    found = next((e for e in entries if _meta(e).get("name") == name), None)
    if found is None:
        return Finding(
            "global-serviceentry",
            context,
            FAIL,
            subject,
            f"missing: service {meta['namespace']}/{meta['name']} is labelled"
            f" {GLOBAL_SCOPE_LABEL}=global but {host} has no ServiceEntry, so"
            " other clusters cannot reach it",
        )
    hosts = list((found.get("spec") or {}).get("hosts") or [])
    if host not in hosts:
        return Finding(
            "global-serviceentry",
            context,
            FAIL,
            subject,
            f"hosts {hosts} do not include {host}",
        )
    return Finding("global-serviceentry", context, PASS, subject, f"hosts {host}")


def _rule_name(rules: Sequence[str]) -> str:
    return f"destinationrule {', '.join(rules)}"


def destination_rule(
    context: str,
    spec: Obj | None,
    rules: Sequence[str],
    host: str,
    proxy: str,
    required: bool,
) -> Finding:
    """The DestinationRule `proxy` applies for `host` is there and valid.

    `spec` is what istiod's lookup picks for that proxy (None: none applies),
    merged from `rules` (`namespace/name`); `proxy` describes the choosing proxy
    (e.g. "waypoint httpbin/httpbin-waypoint").
    """
    if spec is None:
        return Finding(
            "destination-rule",
            context,
            FAIL if required else SKIP,
            f"host {host}",
            f"no DestinationRule applies to {proxy}"
            + (": the tier is decided by one" if required else ""),
        )
    messages = validate_destination_rule(spec)
    errors = [m for m in messages if not m.startswith(WARNING)]
    if errors:
        return Finding(
            "destination-rule",
            context,
            FAIL,
            _rule_name(rules),
            f"invalid (istiod rejects it): {'; '.join(errors)}",
        )
    warnings = [m.removeprefix(WARNING) for m in messages if m not in errors]
    note = f" ({'; '.join(warnings)})" if warnings else ""
    return Finding(
        "destination-rule",
        context,
        PASS,
        _rule_name(rules),
        f"applies to {proxy} for {host}, valid{note}",
    )


def outlier_detection(
    context: str,
    spec: Obj | None,
    rules: Sequence[str],
    host: str,
    traffic_distribution: str | None,
    needs: TierNeeds,
) -> Finding | None:
    """Outlier detection is set where the tier's failover depends on it.

    Needed when the tier ejects failing pods, or when the applied rule's
    localityLbSetting fails over by priority (default priorities, `failover`,
    `failoverPriority`): without `outlierDetection` Istio puts every endpoint at
    priority 0. Not needed for `distribute`, `enabled: false`, or a locality
    setting that comes from the Service's traffic distribution.
    None when no rule applies (the destination-rule check speaks for it).
    """
    if spec is None:
        return None
    policy = spec.get("trafficPolicy") or {}
    present = policy.get("outlierDetection") is not None
    try:
        applied = applicable_setting(
            ServiceConfig(host, spec, traffic_distribution=traffic_distribution)
        )
    except ValueError:  # an invalid rule: the destination-rule check says why
        return None
    setting = applied.setting
    by_priority = (
        applied.source == "destination-rule"
        and setting is not None
        and not setting.distribute
    )
    if not (needs.ejection or by_priority):
        return None
    why = (
        "the tier needs failing pods ejected"
        if needs.ejection
        else "its localityLbSetting fails over by priority, which Istio does only"
        " with outlier detection"
    )
    if not present:
        return Finding(
            "outlier-detection",
            context,
            FAIL,
            _rule_name(rules),
            f"no trafficPolicy.outlierDetection, but {why}: without it "
            + (
                "no pod is ever ejected"
                if needs.ejection
                else "every endpoint is at priority 0"
            ),
        )
    return Finding(
        "outlier-detection", context, PASS, _rule_name(rules), f"set ({why})"
    )
