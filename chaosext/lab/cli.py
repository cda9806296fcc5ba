"""`meshdrill lab up|down|status|kubeconfig`: run the embedded mesh lab."""

import argparse
import asyncio
import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chaosext import output
from chaosext.console import make_console
from chaosext.lab import explain, runtime, tls, topology
from chaosext.mesh import names

DOWN_HINT = "start one with: meshdrill lab up --detach"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ZONE = names.ZONE


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lab = subparsers.add_parser("lab", help="run the embedded multi-cluster mesh lab")
    commands = lab.add_subparsers(dest="lab_command", required=True)

    def state_dir_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help="where the lab keeps state.json, kubeconfig and lab.log "
            "(default: $MESHDRILL_LAB_DIR or ~/.meshdrill/lab)",
        )

    up = commands.add_parser("up", help="start a lab (foreground unless --detach)")
    up.add_argument(
        "--topology",
        default="guide-000",
        help=f"a shipped topology ({', '.join(topology.shipped())}) or a YAML path",
    )
    up.add_argument("--detach", action="store_true", help="run in the background")
    up.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for --detach (default: by the topology's size)",
    )
    state_dir_option(up)
    up.set_defaults(func=cmd_up)

    down = commands.add_parser("down", help="stop the lab")
    state_dir_option(down)
    down.add_argument(
        "--all",
        action="store_true",
        help="also stop the private labs of drills that are gone (killed)",
    )
    down.set_defaults(func=cmd_down)

    status = commands.add_parser("status", help="clusters, nodes, pods and gateways")
    state_dir_option(status)
    output.add_option(status)
    status.set_defaults(func=cmd_status)

    config = commands.add_parser(
        "kubeconfig",
        help="print the lab's kubeconfig path alone on stdout: "
        "export KUBECONFIG=$(meshdrill lab kubeconfig)",
    )
    state_dir_option(config)
    config.set_defaults(func=cmd_kubeconfig)
    explain.register(commands)


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state_dir or runtime.default_state_dir()).expanduser().resolve()


def _print_started(info: runtime.LabInfo) -> None:
    print(f"lab '{info.topology}' running (pid {info.pid}) in {info.state_dir}")
    for name, url in info.clusters.items():
        print(f"  context {name}: {url}")
    print(f"export KUBECONFIG={info.kubeconfig}")


def cmd_up(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    try:
        wanted = topology.canonical(args.topology)
        topology.load(args.topology)
        existing = runtime.check_reuse(state_dir, wanted)
    except topology.TopologyError as exc:
        print(f"meshdrill lab up: {exc}", file=sys.stderr)
        return 2
    except runtime.LabError as exc:
        print(f"meshdrill lab up: {exc}", file=sys.stderr)
        return 1
    if existing is not None:
        print(
            f"a lab '{existing.topology}' already runs in {state_dir} "
            f"(pid {existing.pid}); nothing to do"
        )
        print(f"export KUBECONFIG={existing.kubeconfig}")
        return 0
    if args.detach:
        try:
            info = runtime.start_lab(args.topology, state_dir, timeout=args.timeout)
        except runtime.LabError as exc:
            print(f"meshdrill lab up: {exc}", file=sys.stderr)
            return 1
        _print_started(info)
        return 0
    state_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(state_dir / runtime.LOG_FILE)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("meshdrill").addHandler(handler)
    logging.getLogger("meshdrill").propagate = False

    def ready(info: runtime.LabInfo) -> None:
        _print_started(info)
        print("press Ctrl-C to stop", flush=True)

    asyncio.run(runtime.serve(args.topology, state_dir, on_ready=ready))
    print("lab stopped")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    if runtime.stop_lab(state_dir):
        print(f"stopped the lab in {state_dir}")
    else:
        print(f"no lab runs in {state_dir}")
    if getattr(args, "all", False):
        for orphan, _run in runtime.remove_orphans():
            print(f"stopped the lab of a drill that is gone, in {orphan}")
    return 0


def cmd_kubeconfig(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    info = runtime.running_lab(state_dir)
    if info is None:
        print(
            f"meshdrill lab: no lab runs in {state_dir}; {DOWN_HINT}", file=sys.stderr
        )
        return 1
    print(
        f"# lab '{info.topology}', contexts: {', '.join(info.clusters)}",
        file=sys.stderr,
    )
    print(info.kubeconfig)
    return 0


def api_get(info: runtime.LabInfo, url: str, path: str) -> dict[str, Any]:
    """GET a path from one of the lab's API servers (JSON)."""
    request = urllib.request.Request(
        url + path, headers={"Authorization": f"Bearer {info.token}"}
    )
    context = tls.client_context(info.state_dir / tls.CA_FILE)
    with urllib.request.urlopen(request, timeout=5.0, context=context) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def _owned_by(pod: dict[str, Any], deploy_meta: dict[str, Any]) -> bool:
    """True if `pod` belongs to the Deployment (through its ReplicaSet's name)."""
    owner = (pod["metadata"].get("ownerReferences") or [{}])[0].get("name", "")
    return bool(
        pod["metadata"]["namespace"] == deploy_meta["namespace"]
        and owner.rsplit("-", 1)[0] == deploy_meta["name"]
    )


def _table(title: str, columns: tuple[str, ...], no_wrap: str = "") -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, no_wrap=column == no_wrap)
    return table


def status_data(info: runtime.LabInfo) -> dict[str, Any]:
    """The lab's clusters: API URL, nodes and zones, workloads, gateways."""
    clusters = []
    for name, url in info.clusters.items():
        nodes = api_get(info, url, "/api/v1/nodes")["items"]
        zone_of = {n["metadata"]["name"]: n["metadata"]["labels"][ZONE] for n in nodes}
        pods = api_get(info, url, "/api/v1/pods")["items"]
        workloads = []
        for deploy in api_get(info, url, "/apis/apps/v1/deployments")["items"]:
            meta = deploy["metadata"]
            zones: dict[str, int] = {}
            for pod in (p for p in pods if _owned_by(p, meta)):
                zone = zone_of.get(pod["spec"].get("nodeName", ""), "pending")
                zones[zone] = zones.get(zone, 0) + 1
            workloads.append(
                {
                    "namespace": meta["namespace"],
                    "deployment": meta["name"],
                    "ready": deploy.get("status", {}).get("readyReplicas", 0),
                    "replicas": deploy["spec"].get("replicas", 0),
                    "pods_by_zone": dict(sorted(zones.items())),
                }
            )
        gateways = []
        for svc in api_get(info, url, "/api/v1/services")["items"]:
            ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
            if svc["spec"].get("type") == "LoadBalancer" and ingress:
                port = svc["spec"]["ports"][0]["port"]
                gateways.append(
                    {
                        "namespace": svc["metadata"]["namespace"],
                        "service": svc["metadata"]["name"],
                        "url": f"http://{ingress[0].get('ip')}:{port}",
                    }
                )
        clusters.append(
            {
                "name": name,
                "api": url,
                "nodes": [
                    {
                        "name": n["metadata"]["name"],
                        "zone": zone_of[n["metadata"]["name"]],
                        "schedulable": not n["spec"].get("unschedulable"),
                    }
                    for n in nodes
                ],
                "workloads": workloads,
                "gateways": gateways,
            }
        )
    return {
        "topology": info.topology,
        "pid": info.pid,
        "state_dir": str(info.state_dir),
        "kubeconfig": str(info.kubeconfig),
        "clusters": clusters,
    }


def status_tables(data: dict[str, Any]) -> list[Table]:
    """The clusters (nodes and zones), workloads (pods ready) and gateways."""
    clusters = _table(
        f"lab '{data['topology']}' (pid {data['pid']})",
        ("cluster", "API", "node", "zone", "schedulable"),
        no_wrap="API",
    )
    workloads = _table(
        "workloads", ("cluster", "namespace", "deployment", "ready", "pods by zone")
    )
    gateways = _table("gateways", ("cluster", "namespace", "service", "URL"), "URL")
    for cluster in data["clusters"]:
        name = cluster["name"]
        for i, node in enumerate(cluster["nodes"]):
            clusters.add_row(
                name if i == 0 else "",
                cluster["api"] if i == 0 else "",
                node["name"],
                node["zone"],
                "yes" if node["schedulable"] else "no (cordoned)",
            )
        for w in cluster["workloads"]:
            workloads.add_row(
                name,
                w["namespace"],
                w["deployment"],
                f"{w['ready']}/{w['replicas']}",
                ", ".join(f"{z}: {n}" for z, n in w["pods_by_zone"].items()) or "-",
            )
        for g in cluster["gateways"]:
            gateways.add_row(name, g["namespace"], g["service"], g["url"])
    return [clusters, workloads, gateways]


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    info = runtime.running_lab(state_dir)
    if info is None:
        print(f"no lab runs in {state_dir}; {DOWN_HINT}", file=sys.stderr)
        return 1
    try:
        data = status_data(info)
        if args.output:
            output.emit(data, args.output)
            return 0
        tables = [*status_tables(data), explain.live_split_table(info)]
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        print(f"meshdrill lab status: the lab did not answer: {exc}", file=sys.stderr)
        return 1
    console = make_console()
    if not console.is_terminal:
        console = Console(width=160)  # pipes and files get whole lines
    for table in tables:
        console.print(table)
    console.print(f"kubeconfig: {info.kubeconfig}")
    return 0
