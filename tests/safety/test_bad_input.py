"""Bad input, everywhere: one line naming the culprit, a non-zero exit, no
traceback, nothing changed in the lab (no object written at all: every
resourceVersion as it was), and each run archived (a refused one as refused).

Each row runs the command a user types (`chaos run` with --var or a var file,
`meshdrill lab up`, `meshdrill recover`, `meshdrill gameday validate`,
`meshdrill journals verify`). For `chaos run`, the message is the journal's first
reason (`journal["meshdrill"]["reasons"][0]`), which the run also prints.
"""

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosext.journals import archive
from chaosext.lab import runtime
from tests.drills.drilling import objects, topology_variant
from tests.labfixtures import wait_for
from tests.safety import labs
from tests.safety.processes import (
    EXPERIMENTS,
    TRACEBACK,
    Finished,
    chaos_run,
    meshdrill,
)

pytestmark = pytest.mark.slow


@dataclass
class Bench:
    """What a row may use: the labs, a scratch folder, a closed and a 503 port."""

    lab: runtime.LabInfo
    waypoint_lab: runtime.LabInfo
    tmp: Path
    closed_port: int
    unhealthy_url: str

    def drill(
        self,
        *variables: str,
        experiment: str = "region_outage.json",
        var_file: dict[str, Any] | None = None,
        var_text: str | None = None,
    ) -> Finished:
        """`chaos run` against the lab (or the waypoint lab for waypoint_failover)."""
        lab = self.waypoint_lab if experiment.startswith("waypoint") else self.lab
        settings = dict(v.split("=", 1) for v in variables)
        settings.setdefault("lab_topology", lab.topology)
        var_files: tuple[Path, ...] = ()
        if var_file is not None:
            var_text = yaml.safe_dump({"configuration": var_file})
        if var_text is not None:
            path = self.var_file_path
            path.write_text(var_text)
            var_files = (path,)
        return chaos_run(
            EXPERIMENTS / experiment,
            self.tmp,
            lab,
            variables=settings,
            var_files=var_files,
        )

    @property
    def var_file_path(self) -> Path:
        return self.tmp / "vars.yaml"

    def not_yaml(self, name: str, text: str = "clusters: [unclosed\n") -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def meshdrill(self, *args: str) -> Finished:
        return meshdrill(*args, tmp=self.tmp, lab=self.lab)

    def lab_up(self, topology: Path) -> Finished:
        state = self.tmp / "new-lab"
        done = self.meshdrill(
            "lab",
            "up",
            "--detach",
            "--topology",
            str(topology),
            "--state-dir",
            str(state),
        )
        assert runtime.running_lab(state) is None, "a lab started from bad input"
        return done

    def variant(self, edit: Callable[[dict[str, Any]], None]) -> Path:
        return topology_variant("guide-000", self.tmp, edit=edit)

    def unreachable_kubeconfig(self) -> Path:
        """The lab's kubeconfig with every server on a closed port."""
        config = yaml.safe_load(self.lab.kubeconfig.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = f"https://127.0.0.1:{self.closed_port}"
        path = self.tmp / "unreachable-kubeconfig"
        path.write_text(yaml.safe_dump(config))
        return path


def _rule(data: dict[str, Any]) -> dict[str, Any]:
    (rule,) = objects(data, "DestinationRule")
    setting: dict[str, Any] = rule["spec"]["trafficPolicy"]["loadBalancer"][
        "localityLbSetting"
    ]
    return setting


def _weights_90(data: dict[str, Any]) -> None:
    _rule(data)["distribute"][0]["to"] = {"europe-west1": 50, "us-central1": 40}


def _distribute_and_failover(data: dict[str, Any]) -> None:
    _rule(data)["failover"] = [{"from": "europe-west1", "to": "us-central1"}]


def _overlapping_from(data: dict[str, Any]) -> None:
    _rule(data)["distribute"][1]["from"] = "europe-west1/*"


BAD_YAML = """\
name: broken
clusters:
  - name: cluster-a
    region: europe-west1
   nodes: []
"""


def _malformed_topology(bench: Bench) -> tuple[Finished, list[str]]:
    path = bench.tmp / "broken.yaml"
    path.write_text(BAD_YAML)
    return bench.lab_up(path), [f"{path}:5: not valid YAML"]


def _unknown_field_topology(bench: Bench) -> tuple[Finished, list[str]]:
    path = bench.tmp / "unknown.yaml"
    data = yaml.safe_load(Path(bench.lab.topology).read_text())
    data["workloads"][0]["replicas"] = {"cluster-a": 2, "cluster-c": 2}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    lines = [line.strip() for line in path.read_text().splitlines()]
    line = lines.index("cluster-c: 2") + 1
    return bench.lab_up(path), [f"{path}:{line}", "cluster-c"]


def _bad_rule(
    edit: Callable[[dict[str, Any]], None], culprit: str
) -> Callable[[Bench], tuple[Finished, list[str]]]:
    def row(bench: Bench) -> tuple[Finished, list[str]]:
        path = bench.variant(edit)
        return bench.lab_up(path), [f"{path}:", "DestinationRule hello-world", culprit]

    return row


def _bad_cron(bench: Bench) -> tuple[Finished, list[str]]:
    path = bench.tmp / "gameday.yaml"
    path.write_text(
        "name: weekly\n"
        'schedule: "61 6 * * 1"\n'
        "drills:\n"
        "  - name: region-outage\n"
        f"    experiment: {EXPERIMENTS / 'region_outage.json'}\n"
    )
    done = bench.meshdrill("gameday", "validate", str(path))
    return done, [f"{path}:2", "schedule", "'61 6 * * 1'"]


Row = Callable[[Bench], tuple[Finished, list[str]]]

ROWS: dict[str, Row] = {
    "missing topology (lab up)": lambda b: (
        b.lab_up(b.tmp / "nope.yaml"),
        [f"'{b.tmp / 'nope.yaml'}': no such file"],
    ),
    "missing topology (chaos run)": lambda b: (
        b.drill(f"lab_topology={b.tmp / 'nope.yaml'}"),
        ["the embedded lab could not start", f"'{b.tmp / 'nope.yaml'}': no such file"],
    ),
    "malformed topology YAML": _malformed_topology,
    "topology naming an unknown cluster": _unknown_field_topology,
    "DestinationRule weights summing to 90": _bad_rule(
        _weights_90, "distribute[0].to: weights sum to 90, not 100"
    ),
    "DestinationRule distribute with failover": _bad_rule(
        _distribute_and_failover, "distribute and failover can not be set together"
    ),
    "DestinationRule overlapping from": _bad_rule(
        _overlapping_from, "from 'europe-west1/*' overlaps 'europe-west1'"
    ),
    "unknown context": lambda b: (
        b.drill("cluster_a_context=nope"),
        ["context 'nope' is not in kubeconfig", str(b.lab.kubeconfig)],
    ),
    "unreachable API server": lambda b: (
        b.drill(
            var_file={
                "kubeconfig": str(b.unreachable_kubeconfig()),
                "allowed_contexts": ["cluster-a", "cluster-b"],
            }
        ),
        [
            "API server of context 'cluster-a'",
            f"127.0.0.1:{b.closed_port}",
            "did not answer",
        ],
    ),
    "unreachable API server (recover)": lambda b: (
        b.meshdrill(
            "recover",
            "--kubeconfig",
            str(b.unreachable_kubeconfig()),
            "--context",
            "cluster-a",
        ),
        [
            "could not check context 'cluster-a'",
            f"127.0.0.1:{b.closed_port}",
            "did not answer",
        ],
    ),
    "missing deployment": lambda b: (
        b.drill("deployment=nope"),
        ["deployment default/nope not found in context 'cluster-a'"],
    ),
    "missing client pod": lambda b: (
        b.drill("client_pod=deploy/nope", experiment="waypoint_failover.json"),
        ["deployment httpbin/nope not found in context 'cluster1'"],
    ),
    "unreachable ingress": lambda b: (
        b.drill(f"ingress_url=http://127.0.0.1:{b.closed_port}"),
        [f"no answer from http://127.0.0.1:{b.closed_port} (ingress.url)", "connect"],
    ),
    "zero answers sampled (every request 503)": lambda b: (
        b.drill(f"ingress_url={b.unhealthy_url}"),
        [f"no answer from {b.unhealthy_url} (ingress.url)", "status_503"],
    ),
    "zero samples asked for": lambda b: (
        b.drill("samples=0"),
        ["argument 'samples' must be at least 1, got 0"],
    ),
    "answers matching no known pod": lambda b: (
        b.drill("selector=app=nope"),
        ["matches a pod of the workload", "selector 'app=nope'"],
    ),
    "tolerance out of range": lambda b: (
        b.drill("split_tolerance=1.5"),
        ["tolerance: must be in (0, 1), got 1.5"],
    ),
    "tolerance not a number": lambda b: (
        b.drill("split_tolerance=ten"),
        ["argument 'tolerance' must be a number, got 'ten'"],
    ),
    "missing kubeconfig (chaos run)": lambda b: (
        b.drill("kubeconfig=/nope/kubeconfig"),
        ["kubeconfig /nope/kubeconfig (configuration 'kubeconfig') is missing"],
    ),
    "missing kubeconfig (recover)": lambda b: (
        b.meshdrill("recover", "--kubeconfig", "/nope/kubeconfig"),
        ["kubeconfig /nope/kubeconfig is missing"],
    ),
    "unknown context (recover)": lambda b: (
        b.meshdrill("recover", "--kubeconfig", str(b.lab.kubeconfig), "--context", "x"),
        ["context 'x' is not in kubeconfig", str(b.lab.kubeconfig)],
    ),
    "bad cron": _bad_cron,
    "misspelt --var": lambda b: (
        b.drill("cluster_a_contxt=cluster-a"),
        [
            "refused: --var cluster_a_contxt",
            "did you mean 'cluster_a_context'?",
        ],
    ),
    "var file that is not YAML": lambda b: (
        b.drill(var_text="configuration:\n  samples: [1\n"),
        [f"refused: {b.var_file_path}:3:1: not valid YAML/JSON"],
    ),
    "var file keys not under configuration": lambda b: (
        b.drill(var_text="kubeconfig: /etc/prod-kubeconfig\n"),
        [
            f"refused: {b.var_file_path}:1: top-level key 'kubeconfig'",
            "put it under 'configuration:'",
        ],
    ),
    "var file key misspelt": lambda b: (
        b.drill(var_text="configuration:\n  cluster_a_contxt: prod-a\n"),
        [f"refused: {b.var_file_path}:2", "did you mean 'cluster_a_context'?"],
    ),
    "var file that is a list (validate)": lambda b: (
        b.meshdrill("validate", str(b.not_yaml("list.yaml", "- a\n- b\n"))),
        [f"{b.tmp / 'list.yaml'}:1", "not a list"],
    ),
    "experiment that is not JSON (validate)": lambda b: (
        b.meshdrill("validate", str(b.not_yaml("broken.json", '{"title": 1,\n]'))),
        [f"{b.tmp / 'broken.json'}:2:1: not valid JSON"],
    ),
    "method argument bad, checked before any change": lambda b: (
        b.drill("failover_tolerance:float=1.5"),
        [
            "refused: activity 'all-traffic-fails-over-to-cluster-b'",
            "tolerance: must be in (0, 1), got 1.5",
        ],
    ),
    "kubeconfig that is not YAML (chaos run)": lambda b: (
        b.drill(
            var_file={
                "kubeconfig": str(b.not_yaml("kubeconfig")),
                "allowed_contexts": ["cluster-a", "cluster-b"],
            }
        ),
        [f"refused: kubeconfig {b.tmp / 'kubeconfig'} is not valid YAML at line 2"],
    ),
    "kubeconfig that is not YAML (recover)": lambda b: (
        b.meshdrill("recover", "--kubeconfig", str(b.not_yaml("kubeconfig"))),
        [f"kubeconfig {b.tmp / 'kubeconfig'} is not valid YAML at line 2"],
    ),
    "missing kubeconfig with allowed_contexts": lambda b: (
        b.drill(
            var_file={
                "kubeconfig": str(b.tmp / "nope"),
                "allowed_contexts": ["cluster-a", "cluster-b"],
            }
        ),
        [f"refused: kubeconfig {b.tmp / 'nope'} (configuration 'kubeconfig') is"],
    ),
    "missing journal directory": lambda b: (
        b.meshdrill("journals", "verify", "--dir", str(b.tmp / "no-journals")),
        [str(b.tmp / "no-journals")],
    ),
}


@pytest.fixture(scope="module")
def waypoint_lab(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[runtime.LabInfo]:
    info = labs.start(tmp_path_factory.mktemp("waypoint"), "guide-001-waypoint")
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class _Unhealthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def unhealthy_url() -> Iterator[str]:
    """An ingress that answers every request with 503."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unhealthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_bad_input_is_named_in_one_line_and_changes_nothing(
    row: Row,
    shared_lab: runtime.LabInfo,
    waypoint_lab: runtime.LabInfo,
    closed_port: int,
    unhealthy_url: str,
    tmp_path: Path,
) -> None:
    """Non-zero exit, one line naming the culprit, no traceback, the labs as before."""
    bench = Bench(shared_lab, waypoint_lab, tmp_path, closed_port, unhealthy_url)
    for lab in (shared_lab, waypoint_lab):
        wait_for(lambda: labs.settled(lab), 20, "the lab settled")  # noqa: B023
    before = [labs.snapshot(shared_lab), labs.snapshot(waypoint_lab)]
    written = [labs.versions(shared_lab), labs.versions(waypoint_lab)]
    done, culprits = row(bench)
    assert done.code != 0, done.output[-3000:]
    message = done.notes["reasons"][0] if done.journal else _error_line(done.output)
    for culprit in culprits:
        assert culprit in message, (culprit, message)
    assert TRACEBACK not in done.output
    assert [labs.snapshot(shared_lab), labs.snapshot(waypoint_lab)] == before
    assert [labs.versions(shared_lab), labs.versions(waypoint_lab)] == written
    if done.journal:
        _assert_archived(done, tmp_path / "journals")


def _assert_archived(done: Finished, directory: Path) -> None:
    """The run is in the archive with its status; a refusal did nothing at all."""
    (entry,) = archive.entries(directory)
    assert entry["verdict"] == done.notes["verdict"]
    if done.notes["phase"] == "refused":
        assert entry["verdict"] == "refused"
        assert done.journal["status"] == "refused"
        assert done.journal["run"] == []
        assert "meshdrill recover" not in done.output  # nothing to recover
        assert archive.runs(archive.entries(directory, None)) == [
            {**entry, "status": "refused"}
        ]


def _error_line(output: str) -> str:
    """The one line a meshdrill command printed about the error."""
    lines = [line for line in output.splitlines() if line.startswith("meshdrill")]
    assert len(lines) == 1, output
    return lines[0]
