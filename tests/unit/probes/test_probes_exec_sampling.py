"""The exec sampler's one curl per batch, run for real here; its framing and parser."""

import shutil
import subprocess
from pathlib import Path

import pytest

from probes import exec_sampling, sampling, source

from .conftest import PodServer

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None,
    reason="needs curl on PATH",
)


def run_local(
    argv: list[str], env: dict[str, str] | None = None
) -> tuple[str, str, int]:
    """Run argv here, as an exec into a client pod would run it there (a missing
    executable exits 127, as the API's exec reports it)."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except FileNotFoundError as exc:
        return "", f"exec: {exc}", 127
    return done.stdout, done.stderr, done.returncode


def sample(
    url: str, count: int, timeout: float = 2.0, extractor: str = "auto"
) -> sampling.Sample:
    """sample_exec with the script run here by /bin/sh."""
    return exec_sampling.sample_exec(run_local, url, count, timeout, extractor)


def test_one_curl_with_a_short_command_line_at_any_count() -> None:
    """One process, no shell; the URL once, globbed: the argv does not grow with N."""
    small = exec_sampling.build_argv("http://h:8000/hostname", 3, 1.5, "ab" * 8)
    large = exec_sampling.build_argv("http://h:8000/hostname", 200, 1.5, "ab" * 8)
    assert small[0] == large[0] == "curl"
    assert "Connection: close" in large
    assert large[-1] == "http://h:8000/hostname#[1-200]"
    assert len(" ".join(large)) - len(" ".join(small)) <= 2


def test_glob_characters_in_the_url_are_encoded() -> None:
    """Brackets and braces in the user's URL are not taken for curl globs."""
    argv = exec_sampling.build_argv("h/x[1]{a}#frag", 2, 1.0, "ab" * 8)
    assert argv[-1] == "h/x%5B1%5D%7Ba%7D#[1-2]"


def test_each_request_opens_its_own_connection(pod_server: PodServer) -> None:
    """Connection: close: six requests, six client ports (L4 balancing sees each)."""
    result = sample(f"{pod_server.url}/rotate", 6)
    assert len(result.answers) == 6
    assert len(pod_server.connections) == 6


def test_answers_are_timestamped_in_order(pod_server: PodServer) -> None:
    """Each answer has a time within the exec's span, in completion order."""
    result = sample(f"{pod_server.url}/rotate", 5)
    times = result.answer_times
    assert len(times) == 5
    assert times == sorted(times)
    assert result.started_at <= times[0] <= times[-1] == result.finished_at


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
    """A body imitating a trailer neither adds answers nor ends the batch."""
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
    ran: list[list[str]] = []
    result = exec_sampling.sample_exec(
        lambda argv: ran.append(argv) or ("", "", 0), f"{pod_server.url}/rotate", 0
    )
    assert (result.answers, result.errors, result.total, ran) == ([], {}, 0, [])


def test_missing_curl_raises(pod_server: PodServer, tmp_path: Path) -> None:
    """A pod without curl is a SamplingError, not a sample of errors."""
    argv_run = lambda argv: run_local(argv, {"PATH": str(tmp_path)})  # noqa: E731
    with pytest.raises(sampling.SamplingError, match="curl is not installed"):
        exec_sampling.sample_exec(argv_run, f"{pod_server.url}/rotate", 2)


def test_curl_that_did_not_run_raises() -> None:
    """No trailer in the output: SamplingError with the stderr tail."""
    with pytest.raises(sampling.SamplingError, match="exec format error"):
        exec_sampling.sample_exec(lambda argv: ("", "exec format error", 126), "h/x", 1)


N = "0123456789abcdef"


def trailer(code: str, curl_exit: int, size: int = 0, seconds: float = 0.01) -> str:
    return f"\nMDS-{N} 0 {code} {curl_exit} {size} {seconds}\n"


def test_cut_output_counts_missing() -> None:
    """Transfers curl never reported count as missing."""
    text = "pod-a" + trailer("200", 0) + "pod-a" + trailer("200", 0)
    result = exec_sampling.parse_output(text, 4, N, "bare")
    assert (result.answers, result.errors, result.total) == (
        ["pod-a", "pod-a"],
        {"missing": 2},
        4,
    )


def test_parser_frames_by_nonce_only() -> None:
    """A trailer with another nonce is body text; extra trailers are ignored."""
    fake = "\nMDS-ffffffffffffffff 0 200 0 5 0.1\n"
    text = "pod-a" + fake + trailer("200", 0) + "pod-b" + trailer("503", 0)
    text += "pod-c" + trailer("200", 0)
    result = exec_sampling.parse_output(text, 2, N, "bare")
    assert (result.answers, result.errors) == ([], {"unparsable": 1, "status_503": 1})


def test_answer_times_count_back_from_the_finish() -> None:
    """Answer i completed the later transfers' time_total before the exec ended."""
    text = "pod-a" + trailer("200", 0, 5, 0.25) + "pod-b" + trailer("200", 0, 5, 0.5)
    text += trailer("000", 7, 0, 0.125)
    result = exec_sampling.parse_output(text, 3, N, "bare", finished_at=100.0)
    assert result.answer_times == [99.375, 99.875]
    assert result.error_times == [(100.0, "connect")]


def test_gaps_between_transfers_are_shared_out_when_the_overhead_is_known() -> None:
    """1.0 s of exec, 0.2 s of it fixed cost, 0.6 s in transfers: the 0.2 s left
    are the gaps curl does not count, one per transfer."""
    text = "pod-a" + trailer("200", 0, 5, 0.25) + "pod-b" + trailer("200", 0, 5, 0.35)
    result = exec_sampling.parse_output(
        text, 2, N, "bare", started_at=99.0, finished_at=100.0, overhead=0.2
    )
    assert result.answer_times == pytest.approx([99.55, 100.0])


def test_exec_overhead_is_the_one_request_exec_less_its_transfer(
    pod_server: PodServer,
) -> None:
    """A fake clock: the exec takes 0.5 s, its one transfer what curl says."""
    ticks = iter([10.0, 10.5])
    overhead = exec_sampling.exec_overhead(
        run_local, f"{pod_server.url}/rotate", wall=lambda: next(ticks)
    )
    assert 0.4 < overhead < 0.5


@pytest.mark.parametrize(
    ("code", "curl_exit", "body", "kind"),
    [
        ("000", 6, "", "resolve"),
        ("000", 7, "", "connect"),
        ("000", 28, "", "timeout"),
        ("200", 28, "pod", "timeout"),
        ("000", 52, "", "reset"),
        ("000", 56, "", "reset"),
        ("200", 63, "", "unparsable"),
        ("000", 35, "", "curl_35"),
        ("404", 0, "no", "status_404"),
        ("200", 0, "", "unparsable"),
    ],
)
def test_curl_exit_and_status_kinds(
    code: str, curl_exit: int, body: str, kind: str
) -> None:
    """curl exit codes and HTTP statuses map to the documented error kinds."""
    result = exec_sampling.parse_output(body + trailer(code, curl_exit), 1, N)
    assert result.errors == {kind: 1}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", 1, 1.0), "url"),
        (("-o /etc/passwd", 1, 1.0), "url"),
        (("http://h/a b", 1, 1.0), "url"),
        (("http://h/", 0, 1.0), "count"),
        (("http://h/", 1, 0.0), "timeout"),
    ],
)
def test_bad_arguments_name_the_field(args: tuple[str, int, float], field: str) -> None:
    """build_argv rejects what curl would misread, naming the argument."""
    with pytest.raises(ValueError, match=field):
        exec_sampling.build_argv(*args)


@pytest.mark.parametrize(
    ("timed", "calls"),
    [
        (True, ["overhead", ("batch", 0.01), ("batch", 0.01)]),
        (False, [("batch", None), ("batch", None)]),
    ],
)
def test_only_a_timed_exec_source_measures_the_exec_once(
    monkeypatch: pytest.MonkeyPatch, timed: bool, calls: list[object]
) -> None:
    """A probe that needs answer times measures the exec's fixed cost once, on its
    first batch; one that judges counts only (traffic_all_in, hostname_split)
    spends no exec on it."""
    seen: list[object] = []

    def overhead(*_: object, **__: object) -> float:
        seen.append("overhead")
        return 0.01

    def batch(
        run: object, url: str, count: int, *_: object, overhead: float | None = None
    ) -> sampling.Sample:
        seen.append(("batch", overhead))
        return sampling.Sample(total=count)

    monkeypatch.setattr(exec_sampling, "exec_overhead", overhead)
    monkeypatch.setattr(exec_sampling, "sample_exec", batch)
    spec = {"exec": {"context": "c", "pod": "deploy/client"}, "url": "svc:80/"}
    src = source.source_from(spec, {}, None, timed=timed)
    src.sample(5)
    src.sample(5)
    assert seen == calls
