"""Hostname sampling from inside a client pod: one exec runs one ``curl`` per batch.

The guides sample with ``kubectl exec ... -- sh -c "for i in $(seq 1 10); do curl
-s URL; done"``: a process (or three) per request.  :func:`build_argv` asks one
``curl`` for the whole batch, with no shell at all:

- the URL once, with a glob on its fragment (``URL#[1-N]``): curl expands it to N
  transfers of the same request (a fragment is never sent), so the exec's request
  line stays short at any N (many URLs on the command line overflow the API
  server's 8 KiB request line at N=200);
- ``Connection: close``: a new connection per request, so an L4 balancer (ztunnel)
  picks an endpoint per request; keep-alive would pin every answer to one pod;
- ``-w`` writes a trailer line after every transfer, whatever its outcome::

      <body>\\nMDS-<nonce> <urlnum> <http_code> <curl_exit> <bytes> <seconds>\\n

  The nonce is drawn per batch and never sent to the server, so no body can
  imitate a trailer: any body (newlines, "MDS" lines, binary) arrives framed.

:func:`parse_output` turns the output into a :class:`~probes.sampling.Sample` with
the extractors of :func:`probes.sampling.sample_http`.  Transfers run one after
another, so each answer's time is the exec's local finish time minus the
``time_total`` of the transfers after it (see :func:`parse_output`); its latency
is its own ``time_total``.

Error kinds by curl exit code: 6 ``resolve``, 7 ``connect``, 28 ``timeout``,
52/55/56 ``reset`` (empty reply, send or receive failure), 63 ``unparsable`` (body
over 64 KiB), others ``curl_<code>``; exit 0 with a non-2xx status gives
``status_<code>``; a 2xx body naming no pod ``unparsable``; transfers the exec
never reported (it was cut short) ``missing``.  Needs curl 7.75 or newer
(``%{exitcode}``).
"""

import re
import secrets
import time
from collections.abc import Callable
from urllib.parse import quote

from probes import extract
from probes.sampling import Sample, SamplingError, status_kind

__all__ = [
    "MAX_BODY_BYTES",
    "Runner",
    "build_argv",
    "exec_overhead",
    "exec_timeout",
    "parse_output",
    "sample_exec",
]

Runner = Callable[[list[str]], tuple[str, str, int]]
"""Runs argv in the client pod: returns (stdout, stderr, exit code)."""

MAX_BODY_BYTES = 64 * 1024
_CURL_EXITS = {
    6: "resolve",
    7: "connect",
    28: "timeout",
    52: "reset",
    55: "reset",
    56: "reset",
    63: "unparsable",
}
_GLOB_CHARS = {c: quote(c) for c in "[]{}"}
_NONCE = re.compile(r"[0-9a-f]{8,64}")


def new_nonce() -> str:
    """A fresh trailer nonce (16 hex digits)."""
    return secrets.token_hex(8)


def build_argv(
    url: str, count: int, timeout: float = 2.0, nonce: str = ""
) -> list[str]:
    """``curl`` argv for ``count`` sequential requests to ``url``, each framed.

    ``url`` may omit the scheme, as in the guides
    (``in-ambient.httpbin.mesh.internal:8000/hostname``); glob characters in it are
    percent-encoded, a fragment dropped.  ``timeout`` is curl's ``--max-time`` per
    request, so the exec needs about ``count * timeout`` seconds at worst (see
    :func:`exec_timeout`).  ``nonce`` (hex, default: a fresh one) marks trailers.
    """
    if not url or url.startswith("-") or any(c.isspace() for c in url):
        raise ValueError(
            f"url: need a URL without spaces or a leading '-', got {url!r}"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count: must be a positive integer, got {count!r}")
    if not timeout >= 0.001:
        raise ValueError(f"timeout: must be >= 0.001 s, got {timeout!r}")
    nonce = nonce or new_nonce()
    if not _NONCE.fullmatch(nonce):
        raise ValueError(f"nonce: need 8-64 lowercase hex digits, got {nonce!r}")
    base = url.partition("#")[0]
    for char, encoded in _GLOB_CHARS.items():
        base = base.replace(char, encoded)
    trailer = (
        f"\\nMDS-{nonce} %{{urlnum}} %{{http_code}} %{{exitcode}}"
        " %{size_download} %{time_total}\\n"
    )
    return [
        "curl",
        "-s",
        "--max-time",
        f"{timeout:.3f}".rstrip("0").rstrip("."),
        "--max-filesize",
        str(MAX_BODY_BYTES),
        "-H",
        "Connection: close",
        "-w",
        trailer,
        f"{base}#[1-{count}]",
    ]


def exec_timeout(count: int, timeout: float) -> float:
    """Seconds an exec of :func:`build_argv` may take: every curl timing out."""
    return count * (timeout + 0.5) + 5.0


def parse_output(
    text: str,
    count: int,
    nonce: str,
    extractor: str | extract.Extractor = "auto",
    *,
    started_at: float | None = None,
    finished_at: float | None = None,
    overhead: float | None = None,
) -> Sample:
    """The :class:`~probes.sampling.Sample` that curl's framed output describes.

    Trailers beyond ``count`` are ignored; transfers without one count as
    ``missing``.  Answer times are anchored at ``finished_at`` (the exec's end, as
    seen here): answer i completed the ``time_total`` of transfers i+1.. before
    it, plus the gaps between transfers that curl's ``time_total`` leaves out.
    With ``overhead`` (an exec's fixed cost: its start and end, see
    :func:`exec_overhead`) and ``started_at``, those gaps are the exec's time
    left over, shared evenly; without, they count as nothing.
    """
    extract_host = extract.get_extractor(extractor)
    now = time.time()
    finished = now if finished_at is None else finished_at
    sample = Sample(
        total=count,
        started_at=now if started_at is None else started_at,
        finished_at=finished,
    )
    trailer = re.compile(
        rf"\nMDS-{re.escape(nonce)} \d+ (\d{{3}}) (\d+) \d+ ([0-9.]+)\n"
    )
    outcomes: list[tuple[str, str | None, float]] = []
    position = 0
    for match in trailer.finditer(text):
        if len(outcomes) == count:
            break
        body = text[position : match.start()]
        code, curl_exit, seconds = match.groups()
        kind, hostname = _judge(int(code), int(curl_exit), body, extract_host)
        outcomes.append((kind, hostname, float(seconds)))
        position = match.end()
    gap = 0.0
    if overhead is not None and started_at is not None and outcomes:
        spent = sum(seconds for _, _, seconds in outcomes)
        gap = max(0.0, finished - started_at - overhead - spent) / len(outcomes)
    at = finished
    stamped: list[tuple[float, str, str | None, float]] = []
    for kind, hostname, seconds in reversed(outcomes):
        stamped.append((at, kind, hostname, seconds))
        at -= seconds + gap
    for when, kind, hostname, seconds in reversed(stamped):
        if hostname is not None:
            sample.answers.append(hostname)
            sample.answer_times.append(when)
            sample.answer_latencies.append(seconds)
        else:
            sample.errors[kind] = sample.errors.get(kind, 0) + 1
            sample.error_times.append((when, kind))
    if len(outcomes) < count:
        sample.errors["missing"] = count - len(outcomes)
    return sample


def sample_exec(
    run: Runner,
    url: str,
    count: int,
    timeout: float = 2.0,
    extractor: str | extract.Extractor = "auto",
    *,
    wall: Callable[[], float] = time.time,
    overhead: float | None = None,
) -> Sample:
    """Sample ``url`` ``count`` times from the pod that ``run`` executes in.

    ``overhead``: the exec's fixed cost (:func:`exec_overhead`), for answer times
    (see :func:`parse_output`).

    ``run(argv)`` executes argv in the client pod (``Cluster.exec`` over the API,
    or ``subprocess`` in tests) and returns (stdout, stderr, exit code).  Raises
    :class:`~probes.sampling.SamplingError` if curl did not run (not installed, or
    older than 7.75) or reported no transfer at all.
    """
    extract_host = extract.get_extractor(extractor)
    if count == 0:
        now = wall()
        return Sample(total=0, started_at=now, finished_at=now)
    nonce = new_nonce()
    argv = build_argv(url, count, timeout, nonce)
    started = wall()
    stdout, stderr, exit_code = run(argv)
    finished = wall()
    if f"\nMDS-{nonce} " not in stdout:
        if exit_code == 127:
            raise SamplingError(
                f"curl is not installed in the client pod (exit 127): {_tail(stderr)!r}"
            )
        raise SamplingError(
            f"curl reported no transfer (exit {exit_code}; curl 7.75 or newer is"
            f" needed): {_tail(stderr or stdout)!r}"
        )
    return parse_output(
        stdout,
        count,
        nonce,
        extract_host,
        started_at=started,
        finished_at=finished,
        overhead=overhead,
    )


def exec_overhead(
    run: Runner,
    url: str,
    timeout: float = 2.0,
    *,
    wall: Callable[[], float] = time.time,
) -> float:
    """An exec's fixed cost (start, curl's start and exit, the end), in seconds:
    the wall time of a one-request batch less that request's ``time_total``."""
    nonce = new_nonce()
    started = wall()
    stdout, _, _ = run(build_argv(url, 1, timeout, nonce))
    took = wall() - started
    found = re.search(rf"\nMDS-{nonce} \d+ \d{{3}} \d+ \d+ ([0-9.]+)\n", stdout)
    return max(0.0, took - (float(found.group(1)) if found else 0.0))


def _judge(
    code: int, curl_exit: int, body: str, extract_host: extract.Extractor
) -> tuple[str, str | None]:
    """(error kind, hostname); the hostname is None for a failed request."""
    if curl_exit:
        return _CURL_EXITS.get(curl_exit, f"curl_{curl_exit}"), None
    if not 200 <= code < 300:
        return status_kind(code), None
    hostname = extract_host(body)
    return ("unparsable", None) if hostname is None else ("", hostname)


def _tail(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]
