"""Hostname sampling over HTTP: send N requests, record who answered and what failed.

:func:`sample_http` sends ``count`` GET requests with ``concurrency`` worker threads,
each with its own keep-alive ``http.client`` connection (no per-request environment,
proxy or netrc lookups: they cost more than the request); every request has (connect,
read) timeouts, is never retried, and the whole call has a deadline, so it always
returns.  Every answer and every failed request carries the time it completed;
every answer also how long its request took (``Sample.answer_latencies``).
The result is a :class:`Sample`, also produced by :mod:`probes.exec_sampling`.

Error kinds (``Sample.errors``): ``connect`` (refused, unreachable), ``resolve`` (DNS),
``timeout``, ``reset`` (connection closed or reset before a full response),
``status_<code>`` (any non-2xx answer, e.g. ``status_503``), ``unparsable`` (a 2xx
body naming no pod), ``deadline`` (not finished, or never sent, when the call's
deadline passed), ``other``.
"""

import http.client
import math
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import SplitResult, urlsplit

import requests
import urllib3.exceptions

from probes import extract

MAX_BODY_BYTES = 64 * 1024
"""Bodies longer than this are not hostnames: the request counts as ``unparsable``."""

Timeout = float | tuple[float, float]


class SamplingError(RuntimeError):
    """The sampler could not sample at all (not: some requests failed)."""


class SampleJSON(TypedDict):
    """:meth:`Sample.to_json`'s shape."""

    answers: list[str]
    counts: dict[str, int]
    errors: dict[str, int]
    total: int
    started_at: float
    finished_at: float
    duration: float


@dataclass
class Sample:
    """Who answered a batch of requests, and how the others failed."""

    answers: list[str] = field(default_factory=list)
    """Hostnames, in completion order."""
    answer_times: list[float] = field(default_factory=list)
    """When each answer completed (``time.time()``), parallel to ``answers``."""
    answer_latencies: list[float] = field(default_factory=list)
    """Seconds each answer's request took (sent to last byte), parallel to
    ``answers`` (empty when the sampler could not time them)."""
    error_times: list[tuple[float, str]] = field(default_factory=list)
    """(when, kind) of each failed request that completed; ``deadline`` and
    ``missing`` errors (never completed) have no time."""
    errors: dict[str, int] = field(default_factory=dict)
    """Failed requests by kind (see the module docstring)."""
    total: int = 0
    """Requests asked for: ``len(answers) + sum(errors.values())``."""
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def duration(self) -> float:
        """Seconds from start to finish."""
        return self.finished_at - self.started_at

    @property
    def error_count(self) -> int:
        """Requests that gave no hostname."""
        return sum(self.errors.values())

    def counts(self) -> dict[str, int]:
        """Answers per hostname, most frequent first."""
        return dict(Counter(self.answers).most_common())

    def to_json(self) -> SampleJSON:
        """A JSON-serialisable dict (for journals)."""
        return SampleJSON(
            answers=list(self.answers),
            counts=self.counts(),
            errors=dict(sorted(self.errors.items())),
            total=self.total,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration=self.duration,
        )


def status_kind(code: int) -> str:
    """The error kind of a non-2xx HTTP status, e.g. ``status_503``."""
    return f"status_{code}"


def default_deadline(count: int, concurrency: int, timeout: Timeout) -> float:
    """Seconds the worst case needs: every request running into its timeouts."""
    connect, read = _timeouts(timeout)
    return math.ceil(count / max(1, concurrency)) * (connect + read) + 1.0


def sample_http(
    url: str,
    count: int,
    *,
    concurrency: int = 8,
    timeout: Timeout = 2.0,
    extractor: str | extract.Extractor = "auto",
    headers: Mapping[str, str] | None = None,
    host: str | None = None,
    deadline: float | None = None,
    wall: Callable[[], float] = time.time,
) -> Sample:
    """GET ``url`` ``count`` times and record the hostname of each answer.

    ``timeout`` is per request: seconds for connect and for each read, or a
    (connect, read) pair; a body still arriving after connect + read seconds counts
    as a timeout.  ``host`` sets the ``Host`` header (an ingress gateway's virtual
    host).  ``deadline`` bounds the whole call (default :func:`default_deadline`);
    requests unfinished then count as ``deadline`` errors and their threads are left
    to end on their own timeouts.  Every answer and error is stamped with ``wall()``
    when it completed.

    Each worker keeps one keep-alive ``http.client`` connection (an ingress gateway
    balances per request) and reopens it after a failure.  Nothing is read from the
    environment per request: no proxy variables, no ``~/.netrc``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url: need an http(s) URL with a host, got {url!r}")
    if count < 0:
        raise ValueError(f"count: must be >= 0, got {count!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency: must be >= 1, got {concurrency!r}")
    timeouts = _timeouts(timeout)
    extract_host = extract.get_extractor(extractor)
    budget = (
        default_deadline(count, concurrency, timeout) if deadline is None else deadline
    )
    if budget <= 0:
        raise ValueError(f"deadline: must be > 0, got {deadline!r}")
    target = _Target.of(parts, headers, host)

    sample = Sample(total=count, started_at=wall())
    lock = threading.Lock()
    stop = threading.Event()
    issued = 0

    def record(kind: str, value: str, began: float) -> None:
        at, took = wall(), time.monotonic() - began
        with lock:
            if stop.is_set():
                return  # finished after the deadline: already counted as "deadline"
            if kind == "answer":
                sample.answers.append(value)
                sample.answer_times.append(at)
                sample.answer_latencies.append(took)
            else:
                sample.errors[value] = sample.errors.get(value, 0) + 1
                sample.error_times.append((at, value))

    def worker() -> None:
        nonlocal issued
        conn: http.client.HTTPConnection | None = None
        try:
            while True:
                with lock:
                    if stop.is_set() or issued >= count:
                        return
                    issued += 1
                conn = conn or target.connect(timeouts[0])
                began = time.monotonic()
                outcome = _request(conn, target, timeouts, extract_host)
                if outcome[0] == "error" or conn.sock is None:
                    conn.close()
                    conn = None
                record(*outcome, began)
        finally:
            if conn is not None:
                conn.close()

    workers = min(concurrency, count)
    pool = ThreadPoolExecutor(workers or 1, thread_name_prefix="meshdrill-sample")
    try:
        futures = [pool.submit(worker) for _ in range(workers)]
        done, _ = wait(futures, timeout=budget)
    finally:
        with lock:
            stop.set()
            missing = count - len(sample.answers) - sample.error_count
            if missing:
                sample.errors["deadline"] = missing
            sample.finished_at = wall()
        pool.shutdown(wait=False, cancel_futures=True)
    for future in done:
        future.result()  # a bug in a worker (not a failed request) surfaces here
    return sample


@dataclass(frozen=True)
class _Target:
    """Where every request of a batch goes: parsed once per call."""

    https: bool
    host: str
    port: int | None
    path: str
    headers: dict[str, str]

    @classmethod
    def of(
        cls, parts: SplitResult, headers: Mapping[str, str] | None, host: str | None
    ) -> "_Target":
        send = {"Accept": "*/*", "User-Agent": "meshdrill-sampler"}
        send.update(headers or {})
        if host is not None:
            send["Host"] = host
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(
            parts.scheme == "https", parts.hostname or "", parts.port, path, send
        )

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=_tls_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


_TLS: list[ssl.SSLContext] = []


def _tls_context() -> ssl.SSLContext:
    if not _TLS:
        _TLS.append(ssl.create_default_context())
    return _TLS[0]


def _timeouts(timeout: Timeout) -> tuple[float, float]:
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if not (connect > 0 and read > 0):
        raise ValueError(f"timeout: must be > 0, got {timeout!r}")
    return float(connect), float(read)


def _request(
    conn: http.client.HTTPConnection,
    target: _Target,
    timeouts: tuple[float, float],
    extract_host: extract.Extractor,
) -> tuple[str, str]:
    """One GET: ``("answer", hostname)`` or ``("error", kind)``."""
    give_up = time.monotonic() + sum(timeouts)
    body = bytearray()
    try:
        if conn.sock is None:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(timeouts[1])
        conn.request("GET", target.path, headers=target.headers)
        response = conn.getresponse()
        while chunk := response.read(4096):
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return "error", "unparsable"
            if time.monotonic() > give_up:
                return "error", "timeout"
        status = response.status
        if response.will_close:
            conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return "error", classify_exception(exc)
    if not 200 <= status < 300:
        return "error", status_kind(status)
    hostname = extract_host(body.decode("utf-8", errors="replace"))
    return ("answer", hostname) if hostname is not None else ("error", "unparsable")


def classify_exception(exc: BaseException) -> str:
    """The error kind of a failed request's exception (looks through its causes)."""
    causes = list(_causes(exc))

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    if has(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return "resolve"
    # NewConnectionError subclasses ConnectTimeoutError: test it before timeouts.
    if has(urllib3.exceptions.NewConnectionError, ConnectionRefusedError):
        return "connect"
    if has(requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        return "timeout"
    if has(
        http.client.RemoteDisconnected,
        http.client.IncompleteRead,
        ConnectionResetError,
        BrokenPipeError,
        urllib3.exceptions.ProtocolError,
        requests.exceptions.ChunkedEncodingError,
        http.client.HTTPException,
    ):
        return "reset"
    if has(ConnectionError, requests.ConnectionError):
        return "connect"
    return "other"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (args, ``reason``, cause, context)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [*current.args, getattr(current, "reason", None)]
        linked += [current.__cause__, current.__context__]
        todo.extend(e for e in linked if isinstance(e, BaseException))
