"""`meshdrill recover`: find and undo what drills left changed, after a crash.

Every action writes a restore record onto the object before changing it, so a
drill killed with `kill -9` (or a lost laptop) leaves enough on the clusters
themselves to put them back: this command lists every record in every context of
a kubeconfig (or the named ones), and undoes each one (`--dry-run` only lists).

The kubeconfig is `--kubeconfig`, else kubectl's: the first file of $KUBECONFIG,
else ~/.kube/config; `--kubeconfig lab` is the running embedded lab's. What it
restores goes on the journals ledger ("recovered", against the runs it belonged
to; `--dir` as for `meshdrill journals`). It also stops and removes the private
labs of drills that were killed.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chaosext import clusters, undo
from chaosext.console import make_console
from chaosext.journals import archive, records
from chaosext.lab import runtime

__all__ = ["recover", "register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recover",
        help="undo what drills left changed (after a kill -9 or a lost machine)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--kubeconfig",
        help="kubeconfig file, or 'lab' for the running embedded lab"
        " (default: $KUBECONFIG, else ~/.kube/config)",
    )
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        help="only this context (repeatable; default: every context of the file)",
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=None,
        help="only these namespaces (repeatable; default: all namespaces)",
    )
    parser.add_argument("--run", help="only the changes of this run id")
    parser.add_argument("--dry-run", action="store_true", help="list, change nothing")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--dir",
        help=f"journals archive for the record (default: ${archive.DIR_ENV},"
        " else ./journals)",
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    console = make_console()
    error: str | None = None
    try:
        result = recover(
            kubeconfig_for(args.kubeconfig),
            args.context,
            args.namespace,
            run_id=args.run,
            dry_run=args.dry_run,
        )
    except clusters.ClusterError as exc:
        error = str(exc)
        result = {"kubeconfig": None, "changes": [], "failed": [], "dry_run": False}
    # After the restore: a killed drill's own lab may be what was just restored.
    labs = [] if args.dry_run else runtime.remove_orphans()
    for orphan, run in labs:
        print(
            f"meshdrill recover: stopped the lab of a drill that is gone"
            f" (run {run or 'unknown'}) in {orphan}",
            file=sys.stderr,
        )
    result["labs"] = [{"state_dir": str(p), "run": r} for p, r in labs]
    code = 1 if result["failed"] else 0
    if (result["changes"] or labs) and not args.dry_run:
        code = max(code, _record(args, result))
    if error is not None:
        print(f"meshdrill recover: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _show(console, result, args.dry_run)
    return code


def _record(args: argparse.Namespace, result: dict[str, Any]) -> int:
    """Put what was restored on the journals ledger; 1 if that failed."""
    try:
        done = records.recovered(
            result["changes"],
            result["failed"],
            kubeconfig=str(result["kubeconfig"]),
            labs=result["labs"],
            directory=archive.resolve_dir(args.dir),
        )
    except (archive.ArchiveError, OSError) as exc:
        print(
            f"meshdrill recover: restored, but NOT recorded in the journals"
            f" ledger: {exc}",
            file=sys.stderr,
        )
        return 1
    result["recorded"] = str(done.path)
    return 0


def kubeconfig_for(value: str | None) -> Path:
    """The kubeconfig `--kubeconfig` names: a file, `lab`, or kubectl's default."""
    if value == clusters.LAB:
        state_dir = runtime.default_state_dir()
        info = runtime.running_lab(state_dir)
        if info is None:
            raise clusters.ClusterError(
                f"--kubeconfig lab: no lab runs in {state_dir}"
                " (set MESHDRILL_LAB_DIR to the lab's folder)"
            )
        return info.kubeconfig
    if value:
        return Path(value).expanduser()
    return clusters.kubeconfig_path({})


def recover(
    kubeconfig: Path,
    contexts: list[str],
    namespaces: list[str] | None,
    *,
    run_id: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Find (and unless dry_run, undo) every restore record; report what was done."""
    if not kubeconfig.is_file():
        raise clusters.ClusterError(f"kubeconfig {kubeconfig} is missing")
    known = clusters.contexts_in(kubeconfig)
    unknown = [c for c in contexts if c not in known]
    if unknown:
        raise clusters.ClusterError(
            f"context '{unknown[0]}' is not in kubeconfig {kubeconfig}"
            f" (it has: {', '.join(known) or 'none'})"
        )
    configuration = {"kubeconfig": str(kubeconfig)}
    found: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for context in contexts or known:
        try:
            with clusters.connect(context, configuration) as cluster:
                malformed: list[str] = []
                for change in undo.find_changes(cluster, namespaces, run_id, malformed):
                    entry = {**change.to_json(), "undone": False}
                    if not dry_run:
                        try:
                            undo.undo(cluster, change)
                            entry["undone"] = True
                        except clusters.ClusterError as exc:
                            entry["error"] = str(exc)
                            failed.append(entry)
                    found.append(entry)
                failed += [
                    {"context": context, "error": m, "malformed": True}
                    for m in malformed
                ]
        except (clusters.ClusterError, ValueError) as exc:
            # One unreachable cluster must not keep the others broken.
            failed.append({"context": context, "error": str(exc)})
    return {
        "kubeconfig": str(kubeconfig),
        "changes": found,
        "failed": failed,
        "dry_run": dry_run,
    }


def _show(console: Console, result: dict[str, Any], dry_run: bool) -> None:
    unchecked = [f for f in result["failed"] if "kind" not in f]
    for failure in unchecked:
        why = (
            "cannot restore (malformed record)"
            if failure.get("malformed")
            else f"could not check context '{failure['context']}'"
        )
        print(f"meshdrill recover: {why}: {failure['error']}", file=sys.stderr)
    if not result["changes"]:
        if any(not f.get("malformed") for f in unchecked):
            console.print("no meshdrill restore records in the contexts that answered")
        elif unchecked:
            console.print("no other meshdrill restore records found")
        else:
            console.print("nothing to recover: no meshdrill restore records found")
        return
    table = Table(title="meshdrill changes" + (" (dry run)" if dry_run else ""))
    for column in ("context", "object", "action", "prior", "run", "state"):
        table.add_column(column)
    for c in result["changes"]:
        where = f"{c['namespace']}/{c['name']}" if c["namespace"] else c["name"]
        state = (
            "would restore" if dry_run else ("restored" if c["undone"] else "FAILED")
        )
        table.add_row(
            c["context"],
            f"{c['kind']} {where}",
            c["action"],
            json.dumps(c["prior"]),
            c["run"],
            state + (f": {c['error']}" if c.get("error") else ""),
        )
    console.print(table)
    if result.get("recorded"):
        console.print(f"recorded in the journals ledger: {result['recorded']}")
