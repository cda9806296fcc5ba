"""The end-of-run summary: rich on a terminal, plain lines in a log."""

import io
from typing import Any

from chaosext.controls import summary

NOTES: dict[str, Any] = {
    "status": "passed",
    "verdict": "passed",
    "run_id": "20261129T000000Z-abcd1234",
    "phases": [
        {
            "name": "method: all-traffic-fails-over-to-cluster-b",
            "by": "cluster",
            "counts": {"cluster": {"cluster-b": 150}},
            "intervals": {"cluster-b": [0.975, 1.0]},
            "verdict": "within",
            "transition_seconds": 0.14,
            "transition_errors": {"status_503": 2},
        }
    ],
    "restore": {
        "restored": [
            {
                "kind": "deployment",
                "namespace": "default",
                "name": "hello-world",
                "context": "cluster-a",
            }
        ],
        "failed": [],
    },
    "target": {
        "kind": "kubeconfig",
        "kubeconfig": "/home/me/.kube/config",
        "servers": {"prod-a": "https://10.0.0.1"},
    },
    "archived": "/journals/20261129T000000Z-region_outage-0123456789ab.json",
}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_off_a_terminal() -> None:
    """Piped: one `meshdrill` line each for the phase, restore, target, journal."""
    stream = io.StringIO()
    summary.render(NOTES, "./journal.json", stream)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "meshdrill summary: passed"
    assert all(line.startswith("meshdrill ") for line in lines)
    phase = lines[1]
    for part in ("cluster-b 150/150", "[97.5%, 100.0%]", "0.14 s", "status_503 2"):
        assert part in phase
    joined = "\n".join(lines)
    assert "restored: deployment default/hello-world (cluster-a)" in joined
    assert "target: kubeconfig /home/me/.kube/config: prod-a https://10.0.0.1" in joined
    assert "journal: ./journal.json" in joined
    assert f"archived: {NOTES['archived']}" in joined


def test_a_table_on_a_terminal() -> None:
    """On a terminal: a table with a column per measure, then the footer."""
    stream = Terminal()
    summary.render(NOTES, "./journal.json", stream, width=200)
    out = stream.getvalue()
    assert "verdict (interval)" in out
    assert "transition" in out
    assert "meshdrill summary" not in out
    assert "archived:" in out


def test_nowhere_to_go_shows_the_errors_and_the_finding() -> None:
    """A split that expected errors shows them; a reach phase says why in words."""
    nowhere = {
        "name": "method: failover-has-nowhere-to-go",
        "by": "cluster",
        "counts": {"cluster": {"error": 150}},
        "errors": {"reset": 150},
        "intervals": {"error": [0.975, 1.0]},
        "verdict": "within",
    }
    why = {
        "name": "method: cluster2-is-cut-off",
        "counts": {},
        "verdict": "within",
        "finding": "failover to cluster2 has nowhere to go: no ready replica",
    }
    lines = summary.lines({**NOTES, "phases": [nowhere, why]}, None)
    assert "error 150/150; within (error [97.5%, 100.0%])" in lines[1]
    assert "within: failover to cluster2 has nowhere to go: no ready" in lines[2]
