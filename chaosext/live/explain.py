"""`meshdrill mesh explain`: where a client's requests go on a live mesh, now and
in what-ifs, read from the clusters' own API (no topology file).

    meshdrill mesh explain --kubeconfig lab --context cluster1 \\
        --client deploy/client-in-ambient --host in-ambient.httpbin.mesh.internal \\
        --down zone=us-east-1a -o json

`predict()` is the library entry point (the preflight's `expected: "predicted"` and
conformance use it): one `MeshState` read, any number of predictions.
"""

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterable

from rich.console import Console

from chaosext.console import make_console, prediction_table
from chaosext.live import choosers
from chaosext.live.reader import ReadError
from chaosext.live.state import MeshState, Obj, StateError
from chaosext.mesh import kube, whatif
from chaosext.mesh.whatif import Prediction, PredictionError, Selector


def find_client(
    state: MeshState, client: str, context: str | None, namespace: str = ""
) -> tuple[str, Obj]:
    """(context, pod) for `--client`; without `context`, the one context that has
    it (StateError when none or several do, naming them)."""
    if context:
        return context, choosers.client_pod(state, context, client, namespace)
    found: list[tuple[str, Obj]] = []
    for each in state.clusters:
        try:
            found.append((each, choosers.client_pod(state, each, client, namespace)))
        except StateError:
            continue
    if len(found) == 1:
        return found[0]
    if found:
        raise StateError(
            f"client {client!r} runs in several contexts "
            f"({', '.join(c for c, _ in found)}): name one with --context"
        )
    raise StateError(
        f"no pod or deployment {client!r} in any context ({', '.join(state.clusters)})"
    )


def default_host(state: MeshState, context: str, pod: Obj) -> str:
    """The one Service host of the client's namespace (a global `mesh.internal`
    host first), not counting Services that select the client itself."""
    namespace = pod["metadata"]["namespace"]
    hosts = sorted(
        {
            host
            for service in state.cluster(context).services
            if service["metadata"]["namespace"] == namespace
            and not kube.selects(service, pod)
            for host in kube.service_hosts(service)
        }
    )
    preferred = [h for h in hosts if h.endswith(".mesh.internal")] or hosts
    if len(preferred) != 1:
        raise StateError(
            f"name the host with --host (Services in {namespace}: "
            f"{', '.join(hosts) or 'none'}; hosts: {', '.join(state.hosts())})"
        )
    return preferred[0]


def predict(
    state: MeshState,
    client: str,
    host: str | None = None,
    *,
    context: str | None = None,
    namespace: str = "",
    down: Iterable[Selector] = (),
    eject: Iterable[Selector] = (),
    traffic_distribution: str | None = None,
) -> Prediction:
    """Where `client`'s requests for `host` go, with `down` and `eject` what-ifs.

    `client` is a pod name, `pod/NAME`, `deploy/NAME` or a Deployment name (a
    gateway's or waypoint's too). No API call: everything comes from `state`.
    Raises StateError or PredictionError naming what is unknown and what exists.
    """
    context, pod = find_client(state, client, context, namespace)
    given = host or default_host(state, context, pod)
    mesh_host = state.resolve_host(given, pod["metadata"]["namespace"])
    chooser = choosers.choose(state, context, pod, mesh_host)
    config = state.service_config(mesh_host, chooser.proxy)
    if traffic_distribution is not None:
        value = None if traffic_distribution.lower() == "none" else traffic_distribution
        config = dataclasses.replace(config, traffic_distribution=value)
    return whatif.split(
        chooser.proxy,
        config,
        state.endpoints(mesh_host),
        via=chooser.via,
        down=down,
        eject=eject,
        l4_only=chooser.l4_only,
    )


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `explain` to the `meshdrill mesh` sub-commands."""
    from chaosext.live import cli

    parser = commands.add_parser(
        "explain",
        help="predict where a client's requests go on a live mesh",
        description="Every endpoint of HOST with its priority and predicted share, "
        "as the proxy that chooses for CLIENT sees it, read from the clusters' API.",
    )
    cli.cluster_options(parser)
    parser.add_argument(
        "--client",
        required=True,
        help="a pod (NAME, pod/NAME), deploy/NAME, or a gateway's or waypoint's "
        "Deployment name",
    )
    parser.add_argument("-n", "--namespace", default="", help="the client's namespace")
    parser.add_argument(
        "--host",
        default=None,
        help="the mesh host (name, name:port, URL); default: the one Service host "
        "of the client's namespace",
    )
    parser.add_argument(
        "--traffic-distribution",
        default=None,
        metavar="MODE",
        help="override the Service's (PreferClose, PreferSameZone, PreferSameNode, "
        "PreferNetwork, none)",
    )
    for flag, what in (("--down", "removed"), ("--eject", "ejected")):
        parser.add_argument(
            flag,
            action="append",
            default=[],
            metavar="SEL",
            help=f"endpoints {what}: a pod name, cluster=, region=, zone= or "
            "label:KEY=VALUE (repeatable)",
        )
    parser.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace, console: Console | None = None) -> int:
    from chaosext.live import cli

    try:
        state = cli.read_state(args)
        prediction = predict(
            state,
            args.client,
            args.host,
            context=args.context,
            namespace=args.namespace,
            down=[Selector.parse(s) for s in args.down],
            eject=[Selector.parse(s) for s in args.eject],
            traffic_distribution=args.traffic_distribution,
        )
    except (ReadError, StateError, PredictionError) as exc:
        print(f"meshdrill mesh explain: {exc}", file=sys.stderr)
        return 2
    if args.output == "json":
        print(json.dumps(whatif.as_json(prediction), indent=2))
        return 0
    console = console or make_console()
    console.print(prediction_table(prediction))
    return 0
