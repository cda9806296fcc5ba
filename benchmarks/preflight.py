"""`meshdrill mesh check` on two lab clusters: seconds per check, and API calls.

For each topology (`--topology`, two clusters each), starts a lab and times:
1. `chaosext.preflight.run.check` in-process (read both contexts in parallel, then
   every check), with and without the RBAC check (one SelfSubjectAccessReview per
   verb; the lab may not serve it, then each context makes one call for it);
2. `meshdrill mesh check ... -o json` as a user runs it (a new process: Python
   start-up and imports included).
API calls are counted per check by wrapping `chaosext.clusters.call` (every call
preflight makes goes through it). Target (issue 10): under 2 s on two clusters.

    .venv/bin/python benchmarks/preflight.py [--repeats 10] [--topology guide-000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import figures

from chaosext import clusters
from chaosext.lab import runtime
from chaosext.preflight import run
from chaosext.preflight.needs import ClientRef, Target

TARGETS = {
    "guide-000": (
        Target(
            "default",
            "hello-world",
            ClientRef("cluster-a", "istio-system", "svc/istio-ingressgateway"),
            "region-outage",
        ),
        [
            "--service",
            "default/hello-world",
            "--client",
            "istio-system/svc/istio-ingressgateway",
            "--tier",
            "region-outage",
        ],
    ),
    "guide-001-waypoint": (
        Target(
            "httpbin",
            "in-ambient",
            ClientRef("cluster1", "httpbin", "deploy/client-in-ambient"),
            "waypoint-failover",
        ),
        [
            "--service",
            "httpbin/in-ambient",
            "--client",
            "httpbin/deploy/client-in-ambient",
            "--tier",
            "waypoint-failover",
        ],
    ),
}


def counting_calls() -> list[int]:
    """Wrap clusters.call so each call adds one to the returned counter."""
    counter = [0]
    original = clusters.call

    def call(*args: Any, **kw: Any) -> Any:
        counter[0] += 1
        return original(*args, **kw)

    clusters.call = call  # type: ignore[assignment]
    return counter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--topology", action="append", choices=sorted(TARGETS), default=[]
    )
    args = parser.parse_args()
    out = figures.console()
    figures.print_machine(out, "meshdrill mesh check on two lab clusters")
    table = figures.table(
        "topology", "what", "s median", "s p90", "API calls", "findings", left=2
    )
    counter = counting_calls()
    for name in args.topology or sorted(TARGETS):
        target, cli_args = TARGETS[name]
        with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
            info = runtime.start_lab(name, Path(tmp))
            try:
                config = {"kubeconfig": str(info.kubeconfig)}
                contexts = list(info.clusters)
                for rbac in (True, False):
                    found: list[Any] = []

                    def once(
                        rbac: bool = rbac,
                        found: list[Any] = found,
                        contexts: list[str] = contexts,
                        target: Target = target,
                        config: dict[str, str] = config,
                    ) -> None:
                        found[:] = run.check(
                            contexts, target, config, check_access=rbac
                        )

                    once()  # warm-up
                    counter[0] = 0
                    spread = figures.timed(once, args.repeats)
                    table.add_row(
                        name,
                        f"in-process{'' if rbac else ', --no-rbac'}",
                        figures.secs(spread.median),
                        figures.secs(spread.p90),
                        str(counter[0] // args.repeats),
                        str(len(found)),
                    )
                argv = [
                    str(Path(sys.executable).with_name("meshdrill")),
                    "mesh",
                    "check",
                    "--kubeconfig",
                    str(info.kubeconfig),
                    "-o",
                    "json",
                    *cli_args,
                ]
                repeats = max(1, args.repeats // 3)
                cpu = os.times()
                spread = figures.timed(
                    lambda argv=argv: subprocess.run(
                        argv, capture_output=True, check=False
                    ),
                    repeats,
                )
                after = os.times()
                used = (
                    after.children_user
                    + after.children_system
                    - cpu.children_user
                    - cpu.children_system
                ) / repeats
                table.add_row(
                    name,
                    f"meshdrill mesh check (new process; CPU {used:.2f} s)",
                    figures.secs(spread.median),
                    figures.secs(spread.p90),
                    "-",
                    "-",
                )
            finally:
                runtime.stop_lab(tmp)
    figures.print_table(out, "seconds per check (target: under 2 s)", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
