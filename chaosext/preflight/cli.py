"""`meshdrill mesh check`: is this mesh ready for a drill? A table of findings.

```
meshdrill mesh check [--kubeconfig PATH|lab] [--context CTX]... \\
    [--service NS/NAME] [--client NS/REF] [--client-context CTX] [--tier TIER] \\
    [--no-rbac] [-o table|json]
```
Exit 0 when nothing failed, 1 on any failure, 2 on bad input.
"""

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from chaosext import clusters
from chaosext.cli import UsageError
from chaosext.console import make_console
from chaosext.live import reader
from chaosext.preflight import findings, needs, run

__all__ = ["add_kube_options", "register"]

STYLE = {findings.PASS: "green", findings.FAIL: "bold red", findings.SKIP: "dim"}


def add_kube_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kubeconfig",
        default="",
        help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config);"
        " `lab`: the running lab",
    )
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        help="a context to check (repeatable; default: every context)",
    )


def register(commands: Any) -> None:
    """Add `check` to the `meshdrill mesh` commands (`chaosext.live.cli.COMMANDS`)."""
    check = commands.add_parser(
        "check",
        help="preflight: node and gateway labels, pods, ServiceEntry, waypoint,"
        " DestinationRule, outlier detection, RBAC",
    )
    add_kube_options(check)
    check.add_argument("--service", default="", help="the workload's Service: NS/NAME")
    check.add_argument(
        "--client",
        default="",
        help="the client: NS/NAME, NS/deploy/NAME or NS/svc/NAME (a gateway)",
    )
    check.add_argument(
        "--client-context", default="", help="the client's context (default: first)"
    )
    check.add_argument(
        "--tier",
        default="",
        choices=["", *needs.TIERS],
        help="what the drill needs (pods in two zones, a DestinationRule...)",
    )
    check.add_argument("--no-rbac", action="store_true", help="skip the RBAC check")
    check.add_argument("-o", "--output", choices=["table", "json"], default="table")
    check.set_defaults(func=check_command)


def kube_configuration(kubeconfig: str) -> dict[str, Any]:
    """The configuration `clusters` reads, kubectl's way (`lab`: the running lab)."""
    try:
        return {"kubeconfig": str(reader.kubeconfig_file(kubeconfig or None))}
    except reader.ReadError as exc:
        raise UsageError(str(exc)) from exc


def _target(args: argparse.Namespace, contexts: list[str]) -> needs.Target:
    namespace, name = "", ""
    if args.service:
        namespace, _, name = args.service.partition("/")
        if not namespace or not name:
            raise UsageError(f"--service '{args.service}': write NAMESPACE/NAME")
    if args.client and not args.service:
        raise UsageError("--client needs --service (the workload it calls)")
    client = None
    if args.client:
        context = args.client_context or contexts[0]
        client = needs.parse_client(args.client, context)
    return needs.Target(namespace, name, client, args.tier)


def check_command(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or make_console()
    configuration = kube_configuration(args.kubeconfig)
    try:
        contexts = run.contexts_of(configuration, args.context)
        target = _target(args, contexts)
        found = run.check(
            contexts, target, configuration, check_access=not args.no_rbac
        )
    except clusters.ClusterError as exc:
        raise UsageError(str(exc)) from exc
    failed = findings.failures(found)
    if args.output == "json":
        document = {
            "contexts": contexts,
            "passed": not failed,
            "summary": findings.summary(found),
            "findings": [f.to_json() for f in found],
        }
        console.print_json(json.dumps(document))
    else:
        console.print(table(found))
        counts = findings.summary(found)
        verdict = "FAILED" if failed else "passed"
        console.print(
            f"mesh check {verdict}: {counts['fail']} failed, {counts['pass']} passed,"
            f" {counts['skip']} skipped ({', '.join(contexts)})",
            highlight=False,
        )
    return 1 if failed else 0


def table(found: list[findings.Finding]) -> Table:
    out = Table(show_lines=False)
    for column in ("check", "context", "status", "subject", "finding"):
        out.add_column(column, overflow="fold")
    for f in found:
        out.add_row(
            f.check,
            f.context or "-",
            f"[{STYLE[f.status]}]{f.status}[/]",
            f.subject,
            f.message,
            style=None,
        )
    return out
