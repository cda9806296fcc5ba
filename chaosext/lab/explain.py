"""`meshdrill lab explain`: where a client's, gateway's or waypoint's requests go.

Pure prediction from the topology file (no lab needed), or from a running lab's
objects with `--live`:

    meshdrill lab explain --topology guide-001 --cluster cluster1 \\
        --client client-in-ambient --host in-ambient.httpbin.mesh.internal \\
        --traffic-distribution PreferClose --down zone=us-east-1a

Also the "predicted split" table of `meshdrill lab status` (`split_table`).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from chaosext.console import make_console, prediction_table
from chaosext.lab import topology
from chaosext.lab.prediction import Prediction, PredictionError, Selector, World
from chaosext.mesh import whatif


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `explain` to the `meshdrill lab` sub-commands."""
    parser = commands.add_parser(
        "explain",
        help="predict where a client's (gateway's, waypoint's) requests go",
        description="Every endpoint of HOST with its priority and predicted share, "
        "as seen by the client, gateway or waypoint NAME of CLUSTER.",
    )
    parser.add_argument(
        "--topology",
        default=None,
        help="a shipped topology or a YAML path (default: the running lab's, "
        "else guide-000)",
    )
    parser.add_argument("--cluster", required=True, help="the chooser's cluster")
    parser.add_argument(
        "--client", required=True, metavar="NAME", help="a client, gateway or waypoint"
    )
    parser.add_argument(
        "--host",
        default=None,
        help="the mesh host (name, name:port); default: a gateway's route, or the "
        "only Service host in the client's namespace",
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
            help=f"endpoints {what}: a pod name, or cluster=, region=, zone= "
            "(repeatable)",
        )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--live",
        action="store_true",
        help="use the running lab's objects (real pod names, live annotations)",
    )
    parser.add_argument(
        "--state-dir", default=None, help="the running lab's state dir (--live)"
    )
    parser.set_defaults(func=cmd_explain)


def as_json(prediction: Prediction) -> dict[str, Any]:
    """The shape `meshdrill mesh explain -o json` prints too (`whatif.as_json`)."""
    return whatif.as_json(prediction)


def as_table(prediction: Prediction) -> Table:
    """The prediction as a rich table (notes in the caption)."""
    return prediction_table(prediction)


def default_host(world: World, cluster: str, name: str) -> str:
    """A gateway's route; else the one Service host of the chooser's namespace
    (a global `mesh.internal` host before `svc.cluster.local`)."""
    for gw in world.topology.gateways:
        if gw.cluster == cluster and gw.name == name:
            return gw.route
    namespace = world.namespace_of(cluster, name)
    hosts = [h for h in world.hosts() if h.split(".")[1:2] == [namespace]]
    preferred = [h for h in hosts if h.endswith(".mesh.internal")] or hosts
    if len(preferred) != 1:
        raise PredictionError(
            f"name the host with --host (Services in {namespace}: "
            f"{', '.join(hosts) or 'none'})"
        )
    return preferred[0]


def _world(args: argparse.Namespace) -> World:
    from chaosext.lab import runtime

    state_dir = args.state_dir or runtime.default_state_dir()
    info = runtime.running_lab(state_dir) if args.live or not args.topology else None
    if args.live and info is None:
        raise PredictionError(f"--live: no lab runs in {state_dir}")
    topo = topology.load(args.topology or (info.topology if info else "guide-000"))
    if args.live and info is not None:
        return live_world(topo, info)
    return World.from_topology(topo)


def live_world(topo: topology.Topology, info: Any) -> World:
    """A World of the objects the running lab `info` serves now."""
    from chaosext.lab.cli import api_get

    return World.from_live(
        topo, lambda cluster, path: api_get(info, info.clusters[cluster], path)
    )


def cmd_explain(args: argparse.Namespace, console: Console | None = None) -> int:
    try:
        world = _world(args)
        host = args.host or default_host(world, args.cluster, args.client)
        prediction = world.predict(
            args.cluster,
            args.client,
            host,
            traffic_distribution=args.traffic_distribution,
            down=[Selector.parse(s) for s in args.down],
            eject=[Selector.parse(s) for s in args.eject],
        )
    except (PredictionError, topology.TopologyError) as exc:
        print(f"meshdrill lab explain: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_json(prediction), indent=2))
        return 0
    if console is None:
        console = make_console()
        if not console.is_terminal:
            console = Console(width=160)  # pipes and files get whole lines
    console.print(as_table(prediction))
    return 0


def _split_text(prediction: Prediction) -> str:
    zones: dict[tuple[str, str], float] = {}
    for row in prediction.rows:
        key = (row.cluster, row.zone)
        zones[key] = zones.get(key, 0.0) + row.share
    parts = [f"{c}/{z} {100 * s:.0f}%" for (c, z), s in zones.items() if s > 0]
    return ", ".join(parts) or "every request fails"


def split_table(world: World) -> Table:
    """For each client and gateway of the world's topology: its predicted split now."""
    table = Table(title="predicted split (mesh model; ejections not shown)")
    for column in ("cluster", "proxy", "host", "via", "split"):
        table.add_column(column, no_wrap=column == "host")
    topo = world.topology
    choosers: Sequence[tuple[str, str]] = [
        *((c.cluster, c.name) for c in topo.clients),
        *((g.cluster, g.name) for g in topo.gateways),
    ]
    for cluster, name in choosers:
        try:
            host = default_host(world, cluster, name)
            prediction = world.predict(cluster, name, host)
        except PredictionError as exc:
            table.add_row(cluster, name, "-", "-", str(exc))
            continue
        table.add_row(
            cluster, name, prediction.host, prediction.via, _split_text(prediction)
        )
    return table


def live_split_table(info: Any) -> Table:
    """`split_table` for the running lab `info` (a `runtime.LabInfo`)."""
    try:
        world = live_world(topology.load(info.topology), info)
    except topology.TopologyError as exc:
        table = Table(title="predicted split")
        table.add_column("error")
        table.add_row(str(exc))
        return table
    return split_table(world)
