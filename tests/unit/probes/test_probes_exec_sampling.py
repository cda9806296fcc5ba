"""The exec sampler's sh script, run for real under /bin/sh with curl; its parser."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from probes import exec_sampling, sampling

from .conftest import PodServer

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("sh") is None,
    reason="needs sh and curl on PATH",
)


def run_local(
    argv: list[str], env: dict[str, str] | None = None
) -> tuple[str, str, int]:
    """Run argv here, as an exec into a client pod would run it there."""
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=env, check=False
    )
    return done.stdout, done.stderr, done.returncode


def sample(
    url: str, count: int, timeout: float = 2.0, extractor: str = "auto"
) -> sampling.Sample:
    """sample_exec with the script run here by /bin/sh."""
    return exec_sampling.sample_exec(run_local, url, count, timeout, extractor)


def test_script_is_posix_sh() -> None:
    """The script parses under /bin/sh (dash on Debian) and uses no bash or seq."""
    argv = exec_sampling.build_script("http://h:8000/hostname", 3, 1.5)
    assert argv[:2] == ["sh", "-c"]
    assert subprocess.run(["/bin/sh", "-n", "-c", argv[2]], check=False).returncode == 0
    for bashism in (r"\bseq ", r"\[\[", r"(?<!\$)\(\(", r"\bfunction ", "RANDOM"):
        assert re.search(bashism, argv[2]) is None
    for not_posix in ("head -c", "mktemp", "local "):
        assert not_posix not in argv[2]


def test_counts_every_answer(pod_server: PodServer) -> None:
    """Ten curls against two pods are counted 5/5 with no errors."""
    result = sample(f"{pod_server.url}/rotate", 10)
    assert result.counts() == {"pod-a": 5, "pod-b": 5}
    assert (result.errors, result.total) == ({}, 10)
    assert result.finished_at >= result.started_at


def test_multiline_body_survives(pod_server: PodServer) -> None:
    """The hello-app body keeps its lines through the exec, so `hello` finds the pod."""
    result = sample(f"{pod_server.url}/hello/hello-world-7d8f", 2, extractor="hello")
    assert result.answers == ["hello-world-7d8f", "hello-world-7d8f"]


def test_body_imitating_the_framing_is_harmless(pod_server: PodServer) -> None:
    """A body containing MDS lines neither adds answers nor ends the batch."""
    result = sample(f"{pod_server.url}/frame", 3, extractor="bare")
    assert (result.answers, result.errors) == ([], {"unparsable": 3})


def test_url_is_quoted_safely(pod_server: PodServer) -> None:
    """Quotes and shell characters in the URL reach curl unchanged."""
    result = sample(f"{pod_server.url}/hostname/pod-q?x='a'&y=$(false)", 2)
    assert result.answers == ["pod-q", "pod-q"]


@pytest.mark.parametrize(
    ("path", "timeout", "kind"),
    [
        ("status/503", 2.0, "status_503"),
        ("slow", 0.2, "timeout"),
        ("close", 2.0, "reset"),
        ("reset", 2.0, "reset"),
        ("garbage", 2.0, "unparsable"),
    ],
)
def test_failures_have_kinds(
    pod_server: PodServer, path: str, timeout: float, kind: str
) -> None:
    """Each failing request is counted once under its kind."""
    result = sample(f"{pod_server.url}/{path}", 2, timeout)
    assert (result.answers, result.errors) == ([], {kind: 2})


def test_refused_connection_is_connect(refused_url: str) -> None:
    """Nobody listening: curl exit 7, counted as connect."""
    assert sample(refused_url, 2).errors == {"connect": 2}


def test_zero_count_is_an_empty_sample(pod_server: PodServer) -> None:
    """Asking for nothing runs no curl."""
    result = sample(f"{pod_server.url}/rotate", 0)
    assert (result.answers, result.errors, result.total) == ([], {}, 0)
    assert pod_server.hits == {}


def test_missing_curl_raises(pod_server: PodServer, tmp_path: Path) -> None:
    """A pod without curl is a SamplingError, not a sample of errors."""
    for tool in ("sh", "od", "tr"):
        found = shutil.which(tool)
        assert found is not None
        os.symlink(found, tmp_path / tool)
    env = {"PATH": str(tmp_path)}
    argv_run = lambda argv: run_local(argv, env)  # noqa: E731
    with pytest.raises(sampling.SamplingError, match="curl is not installed"):
        exec_sampling.sample_exec(argv_run, f"{pod_server.url}/rotate", 2)


def test_script_that_did_not_run_raises() -> None:
    """No MDS-BEGIN in the output: SamplingError with the stderr tail."""
    with pytest.raises(sampling.SamplingError, match="exec format error"):
        exec_sampling.sample_exec(lambda argv: ("", "exec format error", 126), "h/x", 1)


def test_cut_output_counts_missing() -> None:
    """Lines the exec never printed count as missing."""
    text = "MDS-BEGIN 4\nMDS 1 200 0 706f642d61\nMDS 2 200 0 706f642d61\n"
    result = exec_sampling.parse_output(text, "bare")
    assert (result.answers, result.errors, result.total) == (
        ["pod-a", "pod-a"],
        {"missing": 2},
        4,
    )


def test_parser_ignores_noise_and_duplicates() -> None:
    """Non-MDS lines (stderr mixed in), repeated or out-of-range indices are ignored."""
    text = (
        "curl: (7) oops\nMDS-BEGIN 2\nMDS 1 200 0 706f642d61\nMDS 1 200 0 706f642d61\n"
        "warning\nMDS 9 200 0 706f642d61\nMDS 2 503 0 \nMDS-END 2\n"
    )
    result = exec_sampling.parse_output(text, "bare")
    assert (result.answers, result.errors) == (["pod-a"], {"status_503": 1})


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("MDS 1 000 6 ", "resolve"),
        ("MDS 1 000 7 ", "connect"),
        ("MDS 1 000 28 ", "timeout"),
        ("MDS 1 200 28 706f", "timeout"),
        ("MDS 1 000 52 ", "reset"),
        ("MDS 1 000 56 ", "reset"),
        ("MDS 1 200 63 ", "unparsable"),
        ("MDS 1 000 35 ", "curl_35"),
        ("MDS 1 404 0 6e6f", "status_404"),
        ("MDS 1 200 0 ", "unparsable"),
    ],
)
def test_curl_exit_and_status_kinds(line: str, kind: str) -> None:
    """curl exit codes and HTTP statuses map to the documented error kinds."""
    result = exec_sampling.parse_output(f"MDS-BEGIN 1\n{line}\nMDS-END 1\n")
    assert result.errors == {kind: 1}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", 1, 1.0), "url"),
        (("-o /etc/passwd", 1, 1.0), "url"),
        (("http://h/a b", 1, 1.0), "url"),
        (("http://h/", -1, 1.0), "count"),
        (("http://h/", 1, 0.0), "timeout"),
    ],
)
def test_bad_arguments_name_the_field(args: tuple[str, int, float], field: str) -> None:
    """build_script rejects what curl or sh would misread, naming the argument."""
    with pytest.raises(ValueError, match=field):
        exec_sampling.build_script(*args)
