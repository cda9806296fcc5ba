"""Durations as Istio accepts them in DestinationRules (Go `ParseDuration` form)."""

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(s: str) -> float:
    """Seconds in a duration like `1s`, `3m`, `100ms`, `1h`, `1h30m` or `1.5s`.

    Go's `time.ParseDuration` grammar (what the Istio CRD's `duration()` check and
    istiod accept): a sign, then number+unit pairs; a bare `0` is allowed. Raises
    `ValueError` naming the text otherwise.
    """
    if not isinstance(s, str):
        raise ValueError(f"{s!r} is not a duration (expected text like 1s, 100ms, 3m)")
    text = s.strip()
    sign = 1.0
    if text and text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    total = 0.0
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"{s!r} is not a duration (expected text like 1s, 100ms, 3m)")
    return sign * total


def format_duration(seconds: float) -> str:
    """Short text for a duration in seconds (`30s`, `3m`, `1.5s`, `100ms`)."""
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
