"""Hostname sampling from inside a client pod: one exec runs a POSIX sh curl loop.

The guides sample with ``kubectl exec ... -- sh -c "for i in $(seq 1 10); do curl
-s URL; done"``.  :func:`build_script` makes the same loop as one exec, without bash,
``seq``, temp files or ``head -c`` (POSIX sh, ``curl``, ``od`` and ``tr`` only), and
prints one machine-readable line per request::

    MDS-BEGIN <count>
    MDS <i> <http_code> <curl_exit> <body as lowercase hex>
    ...
    MDS-END <count>

The body travels hex-encoded, so any byte in it (newlines, "MDS" lines, control
characters) arrives intact and can't be confused with the framing; :func:`parse_output`
decodes it and applies the same extractors as :func:`probes.sampling.sample_http`.

Error kinds by curl exit code: 6 ``resolve``, 7 ``connect``, 28 ``timeout``,
52/55/56 ``reset`` (empty reply, send or receive failure), 63 ``unparsable`` (body
over 64 KiB), 127 ``curl_missing``, others ``curl_<code>``; exit 0 with a non-2xx
status gives ``status_<code>``; a 2xx body naming no pod ``unparsable``; lines the
exec never printed (it was cut short) ``missing``.
"""

import re
import shlex
import time
from collections.abc import Callable

from probes import extract
from probes.sampling import Sample, SamplingError, status_kind

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
    127: "curl_missing",
}
_BEGIN = re.compile(r"^MDS-BEGIN (\d+)\r?$", re.MULTILINE)
_LINE = re.compile(r"^MDS (\d+) (\d{3}) (\d+) ?([0-9a-f]*)\r?$", re.MULTILINE)

# The http code is always 3 digits (000 without a response), appended by -w after
# the body: ${r%???} is the body, whatever its trailing newlines.
_SCRIPT = """\
u={url}; n={count}; t={timeout}
echo "MDS-BEGIN $n"
i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  r=$(curl -s --max-time "$t" --max-filesize {max_body} -w '%{{http_code}}' \\
    --url "$u" 2>/dev/null)
  e=$?
  b=${{r%???}}
  c=${{r#"$b"}}
  x=$(printf '%s' "$b" | od -A n -t x1 -v | tr -d ' \\n')
  printf 'MDS %s %s %s %s\\n' "$i" "${{c:-000}}" "$e" "$x"
done
echo "MDS-END $i"
"""


def build_script(url: str, count: int, timeout: float = 2.0) -> list[str]:
    """``["sh", "-c", script]``: ``count`` sequential curls of ``url``.

    ``url`` may omit the scheme, as in the guides
    (``in-ambient.httpbin.mesh.internal:8000/hostname``).  ``timeout`` is curl's
    ``--max-time`` per request, so the exec needs about ``count * timeout`` seconds
    at worst (see :func:`exec_timeout`).
    """
    if not url or url.startswith("-") or any(c.isspace() for c in url):
        raise ValueError(
            f"url: need a URL without spaces or a leading '-', got {url!r}"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count: must be a non-negative integer, got {count!r}")
    if not timeout >= 0.001:
        raise ValueError(f"timeout: must be >= 0.001 s, got {timeout!r}")
    script = _SCRIPT.format(
        url=shlex.quote(url),
        count=count,
        timeout=f"{timeout:.3f}".rstrip("0").rstrip("."),
        max_body=MAX_BODY_BYTES,
    )
    return ["sh", "-c", script]


def exec_timeout(count: int, timeout: float) -> float:
    """Seconds an exec of :func:`build_script` may take: every curl timing out."""
    return count * (timeout + 0.5) + 5.0


def parse_output(
    text: str,
    extractor: str | extract.Extractor = "auto",
    *,
    started_at: float | None = None,
    finished_at: float | None = None,
) -> Sample:
    """The :class:`~probes.sampling.Sample` that the script's output describes.

    Raises :class:`~probes.sampling.SamplingError` if the output has no
    ``MDS-BEGIN`` line (the script never ran).  Other lines are ignored, so
    stderr mixed into the text is harmless.
    """
    extract_host = extract.get_extractor(extractor)
    begin = _BEGIN.search(text)
    if begin is None:
        raise SamplingError(
            f"no MDS-BEGIN line in the sampling output: {_tail(text)!r}"
        )
    now = time.time()
    sample = Sample(
        total=int(begin.group(1)),
        started_at=now if started_at is None else started_at,
        finished_at=now if finished_at is None else finished_at,
    )
    seen: set[int] = set()
    for match in _LINE.finditer(text, begin.end()):
        index, code, curl_exit, body_hex = match.groups()
        if not 1 <= int(index) <= sample.total or int(index) in seen:
            continue
        seen.add(int(index))
        kind, hostname = _judge(int(code), int(curl_exit), body_hex, extract_host)
        if hostname is not None:
            sample.answers.append(hostname)
        else:
            sample.errors[kind] = sample.errors.get(kind, 0) + 1
    if len(seen) < sample.total:
        sample.errors["missing"] = sample.total - len(seen)
    return sample


def sample_exec(
    run: Runner,
    url: str,
    count: int,
    timeout: float = 2.0,
    extractor: str | extract.Extractor = "auto",
) -> Sample:
    """Sample ``url`` ``count`` times from the pod that ``run`` executes in.

    ``run(argv)`` executes argv in the client pod (the lead's kubernetes ``stream``
    transport, or ``subprocess`` in tests) and returns (stdout, stderr, exit code).
    Raises :class:`~probes.sampling.SamplingError` if the script did not run or the
    pod has no ``curl``.
    """
    argv = build_script(url, count, timeout)
    extract_host = extract.get_extractor(extractor)
    started = time.time()
    stdout, stderr, exit_code = run(argv)
    finished = time.time()
    if _BEGIN.search(stdout) is None:
        raise SamplingError(
            f"the sampling script did not run (exit {exit_code}): "
            f"{_tail(stderr or stdout)!r}"
        )
    sample = parse_output(
        stdout, extract_host, started_at=started, finished_at=finished
    )
    if sample.errors.get("curl_missing"):
        raise SamplingError(
            f"curl is not installed in the client pod (exit 127): {_tail(stderr)!r}"
        )
    return sample


def _judge(
    code: int, curl_exit: int, body_hex: str, extract_host: extract.Extractor
) -> tuple[str, str | None]:
    """(error kind, hostname); the hostname is None for a failed request."""
    if curl_exit:
        return _CURL_EXITS.get(curl_exit, f"curl_{curl_exit}"), None
    if not 200 <= code < 300:
        return status_kind(code), None
    try:
        body = bytes.fromhex(body_hex).decode("utf-8", errors="replace")
    except ValueError:
        return "unparsable", None
    hostname = extract_host(body)
    return ("unparsable", None) if hostname is None else ("", hostname)


def _tail(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]
