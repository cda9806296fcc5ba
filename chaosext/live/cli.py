"""`meshdrill mesh ...`: commands on a live mesh (real clusters or the running lab).

Each command lives in its own module with `register(commands)`; list the module in
`COMMANDS` to add one (e.g. `mesh check`). `cluster_options(parser)` gives every
command the same `--kubeconfig`/`--context`/`-o` options, and `read_state(args)`
reads the mesh they name, once.
"""

import argparse
import importlib

from chaosext.live import reader
from chaosext.live.state import MeshState

COMMANDS: tuple[str, ...] = ("chaosext.live.explain", "chaosext.live.lint")
"""Modules with `register(commands)`, each adding one `meshdrill mesh` command."""


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `mesh` command group to `meshdrill`."""
    group = subparsers.add_parser(
        "mesh", help="explain, lint and check a live mesh through its Kubernetes API"
    )
    commands = group.add_subparsers(dest="mesh_command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(commands)


def cluster_options(parser: argparse.ArgumentParser) -> None:
    """`--kubeconfig`, `--context` and `-o/--output`, with kubectl's defaults."""
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="kubeconfig file, or `lab` for the running lab (default: $KUBECONFIG, "
        "else ~/.kube/config)",
    )
    parser.add_argument(
        "--context",
        default=None,
        help="the context to ask about (every context of the kubeconfig is read)",
    )
    parser.add_argument(
        "-o", "--output", choices=("table", "json"), default="table", help="format"
    )


def read_state(args: argparse.Namespace) -> MeshState:
    """Every context of the kubeconfig `args` name, read once (ReadError if not)."""
    path = reader.kubeconfig_file(args.kubeconfig)
    known = reader.context_names(path)
    if args.context and args.context not in known:
        raise reader.ReadError(
            f"context {args.context!r} is not in kubeconfig {path} "
            f"(it has: {', '.join(known) or 'none'})"
        )
    return reader.read_mesh(path)
