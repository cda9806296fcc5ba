"""Mesh model speed: Router.pick, Router.report and predict() for the guide proxies.

For every shipped topology, every proxy that chooses endpoints for a workload host
(the ingress gateway, a client's ztunnel, a waypoint), with the endpoints and the
ServiceConfig the lab's own control plane computes for it
(`chaosext.lab.prediction.World`, what `meshdrill lab explain` uses). Each figure is
the time per call, median and p90 over `--repeats` loops of `--ops` calls; `now`
advances 0.1 ms per call, so outlier-detection ticks happen as in the lab. `report`
sends HTTP 200 (no ejections); it is a no-op for ztunnel, which has no outlier
detection. Pure Python, no I/O: a few seconds.

    .venv/bin/python benchmarks/mesh_model.py [--ops 20000] [--repeats 5]
"""

import argparse
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import figures

from chaosext import mesh
from chaosext.lab import topology
from chaosext.lab.prediction import PredictionError, World

STEP = 1e-4
"""Seconds of lab time between two calls (10,000 requests per second)."""


@dataclass(frozen=True)
class Case:
    """One proxy choosing endpoints for one host, as the lab configures it."""

    topology: str
    proxy: mesh.Proxy
    host: str
    service: mesh.ServiceConfig
    endpoints: tuple[mesh.Endpoint, ...]

    @property
    def label(self) -> str:
        return f"{self.proxy.kind} {self.proxy.name}@{self.proxy.cluster}"

    @property
    def short_host(self) -> str:
        return self.host.removesuffix(".svc.cluster.local")


def cases(names: list[str]) -> Iterator[Case]:
    """Every distinct (proxy, host with endpoints) of the given topologies."""
    for name in names:
        world = World.from_topology(topology.load(name))
        seen: set[tuple[str, str, str]] = set()
        choosers = [(c, n) for c in world.stores for n in world.names(c)]
        for (cluster, chooser), host in itertools.product(choosers, world.hosts()):
            try:
                choice, namespace, _ = world.chooser(cluster, chooser, host)
                mesh_host = world.host(host, namespace)
            except PredictionError:
                continue
            proxy = choice.proxy
            key = (proxy.cluster, proxy.name, mesh_host) if proxy else None
            if proxy is None or key in seen:
                continue
            service, endpoints, _ = world.plane.compute(mesh_host, proxy.cluster)
            if endpoints:
                seen.add((proxy.cluster, proxy.name, mesh_host))
                yield Case(name, proxy, mesh_host, service, endpoints)


def router_for(case: Case) -> mesh.Router:
    router = mesh.Router(case.proxy, case.service, random.Random(7))
    router.update(case.service, case.endpoints, now=0.0)
    return router


def time_pick(case: Case, ops: int, repeats: int) -> figures.Spread:
    router = router_for(case)

    def loop() -> None:
        for i in range(ops):
            router.pick(i * STEP)

    return per_call(figures.timed(loop, repeats), ops)


def time_report(case: Case, ops: int, repeats: int) -> figures.Spread:
    router = router_for(case)
    names = [e.name for e in case.endpoints]
    count = len(names)

    def loop() -> None:
        for i in range(ops):
            router.report(names[i % count], 200, i * STEP)

    return per_call(figures.timed(loop, repeats), ops)


def time_predict(case: Case, ops: int, repeats: int) -> figures.Spread:
    def loop() -> None:
        for _ in range(ops):
            mesh.predict(case.proxy, case.service, case.endpoints)

    return per_call(figures.timed(loop, repeats), ops)


def per_call(spread: figures.Spread, ops: int) -> figures.Spread:
    return figures.Spread(spread.median / ops, spread.p90 / ops, spread.n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20000, help="calls per loop")
    parser.add_argument("--repeats", type=int, default=5, help="loops per figure")
    parser.add_argument(
        "--topology",
        action="append",
        choices=topology.shipped(),
        help="only these shipped topologies (repeatable; default: all)",
    )
    args = parser.parse_args()
    out = figures.console()
    figures.print_machine(out, "mesh model: Router.pick / report, predict()")
    predict_ops = max(1, args.ops // 10)
    title = (
        f"µs per call, median / p90 of {args.repeats} loops "
        f"({args.ops} pick/report, {predict_ops} predict calls per loop)"
    )
    table = figures.table(
        "topology",
        "proxy",
        "host",
        "eps",
        "pick",
        "picks/s",
        "report",
        "predict",
        left=3,
    )
    for case in cases(args.topology or topology.shipped()):
        pick = time_pick(case, args.ops, args.repeats)
        report = time_report(case, args.ops, args.repeats)
        predict = time_predict(case, predict_ops, args.repeats)
        table.add_row(
            case.topology,
            case.label,
            case.short_host,
            str(len(case.endpoints)),
            f"{figures.us(pick.median)} / {figures.us(pick.p90)}",
            figures.rate(1, pick.median),
            f"{figures.us(report.median)} / {figures.us(report.p90)}",
            f"{figures.us(predict.median)} / {figures.us(predict.p90)}",
        )
    figures.print_table(out, title, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
