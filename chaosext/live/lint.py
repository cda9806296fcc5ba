"""`meshdrill mesh lint`: mesh configurations that do not do what their authors
evidently want, read from the clusters' API. Exit 1 when there are findings.

Per DestinationRule (every context): the single-rule checks of `mesh.lint`
(failoverPriority order, failover without outlier detection, a maxEjectionPercent
that cannot eject at today's host count, a `distribute` that blackholes localities
with endpoints, a shadowed `from`). Across the mesh: a traffic distribution set in
one cluster and not another; a DestinationRule that does not reach the proxy that
chooses (its namespace and `exportTo`, or ztunnel, which ignores them) for
`--client`, for each waypoint, and for ambient clients without a waypoint.
"""

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from chaosext.console import make_console
from chaosext.live import choosers, explain
from chaosext.live.reader import ReadError
from chaosext.live.state import MeshState, Obj, StateError
from chaosext.mesh import kube, lookup, names
from chaosext.mesh.lint import Finding, rule_findings
from chaosext.mesh.whatif import PredictionError

LOOKUP_RULE = (
    "istiod PushContext.destinationRule (pilot/pkg/model/push_context.go): the "
    "proxy's namespace, then the service's, then the root namespace, each only "
    "with rules exported to the proxy's namespace"
)


def _hosts_of(state: MeshState, rule: lookup.Rule) -> list[str]:
    return [h for h in state.hosts() if rule.host and lookup.host_matches(h, rule.host)]


def rule_checks(state: MeshState) -> list[Finding]:
    """The single-rule checks on every DestinationRule, with today's endpoints."""
    out: list[Finding] = []
    for context, objects in state.clusters.items():
        for rule in objects.rules:
            subject = f"destinationrule {rule.namespace}/{rule.name} ({context})"
            endpoints = [e for h in _hosts_of(state, rule) for e in state.endpoints(h)]
            localities = sorted({e.locality for e in endpoints}, key=str)
            out += rule_findings(subject, rule.spec, len(endpoints), localities)
    return out


def distribution_checks(state: MeshState) -> list[Finding]:
    """A Service (same namespace and name in several clusters) whose traffic
    distribution is set in some clusters only, or differs."""
    values: dict[tuple[str, str], dict[str, str | None]] = {}
    for context, objects in state.clusters.items():
        for service in objects.services:
            meta = service["metadata"]
            ns = objects.namespaces.get(meta["namespace"])
            key = (meta["namespace"], meta["name"])
            values.setdefault(key, {})[context] = kube.traffic_distribution(service, ns)
    out: list[Finding] = []
    for (namespace, name), by_context in sorted(values.items()):
        if len(by_context) < 2 or len(set(by_context.values())) < 2:
            continue
        shown = ", ".join(f"{c}: {v or 'unset'}" for c, v in by_context.items())
        out.append(
            Finding(
                "traffic-distribution-differs",
                f"service {namespace}/{name}",
                f"the Service's traffic distribution differs by cluster ({shown}): "
                "each cluster's proxies follow their own cluster's Service, so "
                "clients route differently depending on where they run",
                "istiod GetTrafficDistribution (pilot/pkg/model/service.go): "
                "spec.trafficDistribution, else the Service's, else the Namespace's "
                f"{names.TRAFFIC_DISTRIBUTION} annotation, per cluster",
                "set the same trafficDistribution (or annotation) on the Service "
                "in every cluster",
            )
        )
    return out


def _reach(
    state: MeshState, context: str, proxy_pod: Obj, host: str, who: str
) -> list[Finding]:
    """Findings when the rules for `host` in `context` do not reach `proxy_pod`."""
    rules = lookup.rules_for_host(state.cluster(context).rules, host)
    if not rules:
        return []
    chooser = choosers.choose(state, context, proxy_pod, host)
    names_ = ", ".join(f"{r.namespace}/{r.name}" for r in rules)
    if chooser.l4_only:
        return [
            Finding(
                "destination-rule-unused",
                f"{who} -> {host} ({context})",
                f"DestinationRule {names_} never applies: {chooser.via} routes at "
                "L4 and ztunnel ignores DestinationRules",
                "ztunnel load_balance (src/state.rs) uses only the Service's "
                "traffic distribution; DestinationRules apply in Envoy (sidecars, "
                "gateways, waypoints)",
                f"route through a waypoint ({names.USE_WAYPOINT} on the Service or "
                "namespace), or use a traffic distribution instead",
            )
        ]
    found = state.destination_rule(host, chooser.proxy)
    used = set(found.rules) if found else set()
    missed = [r for r in rules if f"{r.namespace}/{r.name}" not in used]
    if found is not None:  # a less specific rule won where an exact one exists
        missed = [r for r in missed if r.host == host and found.host != host]
    if not missed:
        return []
    proxy = chooser.proxy
    return [
        Finding(
            "destination-rule-unreached",
            f"{who} -> {host} ({context})",
            f"DestinationRule {', '.join(f'{r.namespace}/{r.name}' for r in missed)} "
            f"does not reach {chooser.via} (namespace {proxy.namespace}): "
            + (
                f"it gets {', '.join(found.rules)} instead"
                if found
                else "no rule applies, so the mesh default decides"
            ),
            LOOKUP_RULE,
            "put the rule in the proxy's or the Service's namespace (or the root "
            f"namespace {names.ROOT_NAMESPACE}) and export it to "
            f"{proxy.namespace} (exportTo)",
        )
    ]


def reach_checks(
    state: MeshState,
    client: str | None = None,
    host: str | None = None,
    context: str | None = None,
) -> list[Finding]:
    """Rules that do not reach `client` (when given) and each waypoint, or an
    ambient client without a waypoint, for the hosts they serve."""
    out: list[Finding] = []
    if client:
        at, pod = explain.find_client(state, client, context)
        wanted = host or explain.default_host(state, at, pod)
        mesh_host = state.resolve_host(wanted, pod["metadata"]["namespace"])
        return _reach(state, at, pod, mesh_host, f"client {client}")
    for each, objects in state.clusters.items():
        ambient = [
            p
            for p in objects.pods
            if kube.is_live(p)
            and kube.dataplane(p, objects.namespaces.get(p["metadata"]["namespace"]))
            == kube.ZTUNNEL
        ]
        for host in sorted({h for r in objects.rules for h in _hosts_of(state, r)}):
            _, service = state.owner_service(host, each)
            service_ns = service["metadata"]["namespace"]
            callers = [p for p in ambient if p["metadata"]["namespace"] == service_ns]
            for pod in callers[:1]:
                try:
                    out += _reach(state, each, pod, host, "ambient clients")
                except StateError:
                    continue  # e.g. its waypoint does not run: `mesh check` says so
    return out


def lint(
    state: MeshState,
    client: str | None = None,
    host: str | None = None,
    context: str | None = None,
) -> list[Finding]:
    """Every finding for the read mesh (no API call)."""
    return [
        *rule_checks(state),
        *distribution_checks(state),
        *reach_checks(state, client, host, context),
    ]


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `lint` to the `meshdrill mesh` sub-commands."""
    from chaosext.live import cli

    parser = commands.add_parser(
        "lint",
        help="find mesh settings that do not do what they seem to (exit 1 if any)",
        description="Each finding with the reason, the Istio/Envoy rule behind it "
        "and a fix. Exit 1 when there are findings.",
    )
    cli.cluster_options(parser)
    parser.add_argument("--client", default=None, help="also check this client")
    parser.add_argument("--host", default=None, help="the client's host")
    parser.set_defaults(func=cmd_lint)


def table(findings: list[Finding]) -> Table:
    out = Table(title=f"mesh lint: {len(findings)} finding(s)", show_lines=True)
    for column in ("check", "subject", "reason", "rule", "fix"):
        out.add_column(column, overflow="fold")
    for f in findings:
        out.add_row(f.check, f.subject, f.reason, f.rule, f.fix)
    return out


def cmd_lint(args: argparse.Namespace, console: Console | None = None) -> int:
    from chaosext.live import cli

    try:
        state = cli.read_state(args)
        findings = lint(state, args.client, args.host, args.context)
    except (ReadError, StateError, PredictionError, ValueError) as exc:
        print(f"meshdrill mesh lint: {exc}", file=sys.stderr)
        return 2
    if args.output == "json":
        print(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2))
    elif findings:
        (console or make_console()).print(table(findings))
    else:
        print("mesh lint: no findings")
    return 1 if findings else 0
