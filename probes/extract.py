"""Hostname extractors: from a response body to the name of the pod that answered.

An extractor is a plain function ``body -> hostname | None``.  ``None`` means the
body names no pod (empty, an error page, garbage); the samplers count it as the
error kind ``unparsable`` rather than as a destination, so an Envoy "no healthy
upstream" page never shows up as a pod in a traffic split.

Specs (:func:`get_extractor`):

- ``bare``: the whole body is the hostname (httpbin ``/hostname``); a JSON string
  body (``"pod-a"``) is unquoted.
- ``json:<path>``: a dotted path into a JSON body (``json:pod.name``, ``json:items.0``).
- ``hello``: the ``Hostname: <pod>`` line of the GKE hello-app body.
- ``auto``: ``hello`` if the body has that line, else the JSON field ``hostname``,
  ``Hostname`` or ``pod``, else ``bare``.

A hostname is one token of at most 253 characters from ``[A-Za-z0-9._:-]``,
starting with a letter or digit.
"""

import json
import re
from collections.abc import Callable

Extractor = Callable[[str], str | None]

SPECS = ("bare", "hello", "auto", "json:<path>")
_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,252}")
_HELLO_LINE = re.compile(r"^[ \t]*Hostname:[ \t]*(\S*)[ \t]*\r?$", re.MULTILINE)
_AUTO_FIELDS = ("hostname", "Hostname", "pod")


def _token(text: str) -> str | None:
    text = text.strip()
    return text if _HOSTNAME.fullmatch(text) else None


def _json(body: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def bare(body: str) -> str | None:
    """The stripped body, if it is a single hostname token (JSON strings unquoted)."""
    text = body.strip()
    if text.startswith('"'):
        value = _json(text)
        return _token(value) if isinstance(value, str) else None
    return _token(text)


def hello(body: str) -> str | None:
    """The ``Hostname: <pod>`` line of a hello-app body."""
    match = _HELLO_LINE.search(body)
    return _token(match.group(1)) if match else None


def json_path(path: str) -> Extractor:
    """An extractor for the string at dotted ``path`` of a JSON body."""
    parts = path.split(".")
    if not path or any(not part for part in parts):
        raise ValueError(f"extractor 'json:{path}': the path needs non-empty parts")

    def extract(body: str) -> str | None:
        value = _json(body)
        for part in parts:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return _token(value) if isinstance(value, str) else None

    extract.__name__ = f"json:{path}"
    return extract


def auto(body: str) -> str | None:
    """``hello`` if present, else a JSON hostname/Hostname/pod field, else ``bare``."""
    found = hello(body)
    if found is not None or _HELLO_LINE.search(body):
        return found
    value = _json(body)
    if isinstance(value, dict):
        for field in _AUTO_FIELDS:
            if isinstance(value.get(field), str):
                return _token(value[field])
        return None
    return bare(body)


def get_extractor(spec: str | Extractor) -> Extractor:
    """The extractor for ``spec`` (a name above, or already a callable)."""
    if callable(spec):
        return spec
    if spec.startswith("json:"):
        return json_path(spec[len("json:") :])
    named: dict[str, Extractor] = {"bare": bare, "hello": hello, "auto": auto}
    if spec not in named:
        raise ValueError(f"unknown extractor {spec!r}: use one of {', '.join(SPECS)}")
    return named[spec]
