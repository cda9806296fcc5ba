"""Small checks for YAML documents that name the file, line and field at fault."""

import re
from collections.abc import Mapping
from typing import Any, NoReturn

from chaosext.lab import yamlmarks
from chaosext.lab.yamlmarks import Path

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class TopologyError(ValueError):
    """A topology file is missing, unreadable or wrong: the message says where."""


class Checker:
    """Reads values out of a marked YAML document, failing with file:line: field."""

    def __init__(self, source: str, doc: yamlmarks.MarkedYaml) -> None:
        self.source = source
        self.doc = doc

    def fail(self, path: Path, message: str) -> NoReturn:
        line = self.doc.line(path)
        raise TopologyError(
            f"{self.source}:{line}: {yamlmarks.dotted(path)}: {message}"
        )

    def mapping(
        self,
        path: Path,
        value: Any,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
        free: bool = False,
    ) -> Mapping[str, Any]:
        """A mapping with these fields (any keys at all when `free`)."""
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping, got {_describe(value)}")
        for key in () if free else value:
            if key not in required and key not in optional:
                allowed = ", ".join((*required, *optional))
                self.fail((*path, str(key)), f"unknown field (allowed: {allowed})")
        for key in required:
            if key not in value:
                self.fail(path, f"missing required field '{key}'")
        return value

    def seq(self, path: Path, value: Any) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_describe(value)}")
        return value

    def string(
        self, path: Path, value: Any, pattern: re.Pattern[str] | None = None
    ) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"expected a non-empty string, got {_describe(value)}")
        if pattern is not None and not pattern.match(value):
            self.fail(
                path,
                f"'{value}' is not a valid name (lower-case letters, digits and '-')",
            )
        return value

    def name(self, path: Path, value: Any) -> str:
        return self.string(path, value, NAME_RE)

    def number(self, path: Path, value: Any, minimum: float = 0.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected a number, got {_describe(value)}")
        if value < minimum:
            self.fail(path, f"must be >= {minimum:g}, got {value}")
        return float(value)

    def integer(self, path: Path, value: Any, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {_describe(value)}")
        if value < minimum:
            self.fail(path, f"must be >= {minimum}, got {value}")
        return value

    def string_map(self, path: Path, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping of strings, got {_describe(value)}")
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                self.fail(
                    (*path, str(key)),
                    f"expected a string value (quote it), got {_describe(item)}",
                )
            out[key] = item
        return out

    def one_of(self, path: Path, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(path, f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
