"""The live reader: one read per context, predictions from memory, clear errors."""

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosext import cli
from chaosext.lab import runtime
from chaosext.live import explain, reader
from chaosext.live.state import StateError
from chaosext.mesh.whatif import PredictionError, Selector

StartLab = Callable[[str], runtime.LabInfo]
HOST = "in-ambient.httpbin.mesh.internal"


def test_read_makes_a_fixed_number_of_calls_and_predicts_offline(
    start_lab_from: StartLab,
) -> None:
    """The read costs CALLS_PER_CONTEXT calls per context; after it, any number of
    what-ifs answer with the lab stopped (no API call)."""
    info = start_lab_from("guide-001-waypoint")
    state = reader.read_mesh(info.kubeconfig)
    assert state.calls == reader.CALLS_PER_CONTEXT * 2
    runtime.stop_lab(info.state_dir)
    zones = ["us-east-1a", "us-east-1b", "us-west-2a", "us-west-2b"]
    shares = {
        zone: explain.predict(
            state,
            "client-in-ambient",
            HOST,
            context="cluster1",
            down=[Selector.parse(f"zone={zone}")],
        ).by("zone")
        for zone in zones
    }
    assert state.calls == reader.CALLS_PER_CONTEXT * 2
    assert all(shares[z].get(z, 0.0) == 0.0 for z in zones)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.labfixtures import _ready, _start, wait_for

    directory = tmp_path_factory.mktemp("mesh-read")
    info = _start("guide-001-waypoint", directory)
    try:
        wait_for(lambda: _ready(info), 15, "pods ready")
        yield info, reader.read_mesh(info.kubeconfig)
    finally:
        runtime.stop_lab(info.state_dir)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"client": "nobody"}, "no pod or deployment 'nobody' in any context"),
        ({"client": "nobody", "context": "cluster1"}, "deployments: httpbin/"),
        ({"client": "client-in-ambient"}, "runs in several contexts"),
        ({"client": "client-in-ambient", "context": "c9"}, "contexts read: cluster1"),
        (
            {"client": "client-in-ambient", "context": "cluster1", "host": "x.y"},
            "no Service serves host 'x.y' (hosts: ",
        ),
    ],
)
def test_bad_questions_name_what_exists(state: Any, kwargs: Any, words: str) -> None:
    """Unknown clients, contexts and hosts fail naming what exists."""
    _, mesh_state = state
    host = kwargs.pop("host", HOST)
    with pytest.raises(StateError, match=words.replace("(", r"\(")):
        explain.predict(mesh_state, host=host, **kwargs)


def test_selector_matching_nothing_lists_the_pods(state: Any) -> None:
    """A `--down` that matches no endpoint names the pods that exist."""
    _, mesh_state = state
    with pytest.raises(PredictionError, match=r"matches no endpoint .* \(pods: "):
        explain.predict(
            mesh_state,
            "client-in-ambient",
            HOST,
            context="cluster1",
            down=[Selector.parse("zone=nowhere")],
        )


def test_eject_beyond_max_ejection_percent_cannot_happen(state: Any) -> None:
    """guide 001's rule (maxEjectionPercent 50, 4 hosts) allows 2 ejections: ejecting
    a whole cluster and a zone more (3 hosts) is flagged as impossible."""
    _, mesh_state = state
    two = explain.predict(
        mesh_state,
        "client-in-ambient",
        HOST,
        context="cluster1",
        eject=[Selector.parse("cluster=cluster1")],
    )
    assert two.possible
    three = explain.predict(
        mesh_state,
        "client-in-ambient",
        HOST,
        context="cluster1",
        eject=[Selector.parse("cluster=cluster1"), Selector.parse("zone=us-west-2a")],
    )
    assert not three.possible
    assert any("at most 2 ejected at once, not 3" in n for n in three.notes)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--context", "nope", "--client", "x"], "context 'nope' is not in kubeconfig"),
        (["--client", "x", "--down", "node=n1"], "use a pod name or cluster="),
    ],
)
def test_cli_bad_input_is_one_line(
    state: Any, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI prints one line naming the culprit and exits 2."""
    info, _ = state
    code = cli.main(["mesh", "explain", "--kubeconfig", str(info.kubeconfig), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert words in err


class _Forbidding(BaseHTTPRequestHandler):
    """An API server that lets the caller list nodes and namespaces, not pods."""

    def do_GET(self) -> None:
        if self.path.startswith(("/api/v1/nodes", "/api/v1/namespaces")):
            self._send(200, {"kind": "List", "apiVersion": "v1", "items": []})
            return
        self._send(
            403,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "Forbidden",
                "code": 403,
                "message": 'pods is forbidden: User "drill" cannot list resource '
                '"pods" in API group "" at the cluster scope',
            },
        )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_forbidden_names_the_verb_and_resource(tmp_path: Path) -> None:
    """A 403 says which verb on which resource the kubeconfig's user lacks."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidding)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = tmp_path / "kubeconfig"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "c",
                            "cluster": {
                                "server": f"http://127.0.0.1:{server.server_port}"
                            },
                        }
                    ],
                    "users": [{"name": "drill", "user": {"token": "t"}}],
                    "contexts": [
                        {"name": "prod", "context": {"cluster": "c", "user": "drill"}}
                    ],
                    "current-context": "prod",
                }
            )
        )
        with pytest.raises(reader.ReadError, match="cannot list pods") as caught:
            reader.read_mesh(config)
        assert "forbidden" in str(caught.value)
        assert "'prod'" in str(caught.value)
    finally:
        server.shutdown()
