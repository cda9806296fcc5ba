"""Parse YAML (and JSON) with YAML 1.2 core-schema scalars, keeping every line.

PyYAML implements YAML 1.1, where `on`, `yes`, `off` are booleans, `1:30` is the
integer 90, `0777` is octal and `2024-01-02` a date. YAML 1.2 (what users expect,
and what JSON is a subset of) has only `true`/`false`, decimal, `0o` and `0x`
integers, and no implicit dates: this loader resolves plain scalars that way.
Duplicate keys (an error in YAML 1.2, silently "last wins" in PyYAML) are problems.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaosext.userfile.problems import Loc, Problem, UserFileError

__all__ = ["Document", "parse", "read"]

_DROPPED = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader resolving plain scalars by the YAML 1.2 core schema."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    value = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, the 1-based line of each path, and its name."""

    source: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()  # duplicate keys: reported with the schema's
    yaml11: tuple[Problem, ...] = ()
    """Plain scalars a YAML 1.1 reader takes otherwise (`on`, `yes`, `1:30`, dates):
    not problems here, but worth reporting for files that YAML 1.1 tools also
    read (`chaos run --var-file` loads with PyYAML's safe_load)."""

    def line(self, path: Loc) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 if none).

        A mapping value's line is its key's line (where a missing or wrong value
        is best shown); a list item's is the item's first line.
        """
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Loc, message: str) -> Problem:
        return Problem(self.source, self.line(path), path, message)


def read(path: Path | str) -> Document:
    """Read and parse one file; UserFileError (naming file and line) if it cannot."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UserFileError(
            [Problem(str(path), 0, None, f"cannot read: {reason}")]
        ) from None
    return parse(text, str(path))


def parse(text: str, source: str) -> Document:
    """Parse one YAML 1.2 (or JSON) document read from `source`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(source, None, {})
        walker = _Walker(source)
        walker.lines[()] = node.start_mark.line + 1
        walker.walk(node, ())
        data = loader.construct_document(node)
        return Document(
            source, data, walker.lines, tuple(walker.duplicates), tuple(walker.yaml11)
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = Problem(source, line, None, f"not valid YAML: {exc.problem}")
        raise UserFileError([problem]) from None
    except yaml.YAMLError as exc:
        raise UserFileError(
            [Problem(source, 0, None, f"not valid YAML: {exc}")]
        ) from None
    finally:
        loader.dispose()


def _yaml11_tag(value: str) -> str:
    """The tag a YAML 1.1 reader (PyYAML's safe_load) gives this plain scalar."""
    table = yaml.SafeLoader.yaml_implicit_resolvers
    for tag, regexp in [*table.get(value[:1], []), *table.get(None, [])]:  # type: ignore[call-overload]
        if regexp.match(value):
            return str(tag)
    return "tag:yaml.org,2002:str"


class _Walker:
    """Collects the line of each path, duplicate keys, and YAML 1.1 surprises."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[Problem] = []
        self.yaml11: list[Problem] = []

    def walk(self, node: yaml.Node, path: Loc) -> None:
        if isinstance(node, yaml.ScalarNode):
            self.scalar(node, path)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                child = (*path, str(key.value))
                line = key.start_mark.line + 1
                if child in self.lines:
                    first = self.lines[child]
                    message = f"duplicate key '{key.value}' (first at line {first})"
                    self.duplicates.append(Problem(self.source, line, child, message))
                    continue
                self.lines[child] = line
                self.scalar(key, child, " (as a key)")
                self.walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.lines[child] = item.start_mark.line + 1
                self.walk(item, child)

    def scalar(self, node: yaml.ScalarNode, path: Loc, role: str = "") -> None:
        if node.style is not None:  # quoted or block: the same in 1.1 and 1.2
            return
        then, now = _yaml11_tag(node.value), str(node.tag)
        if then == now:
            if then not in (_INT, _FLOAT):
                return
            # 0777: octal 511 in 1.1, 777 in 1.2
            then_value, now_value = yaml.safe_load(node.value), _value(node.value)
            if then_value == now_value:
                return
            then, now = repr(then_value), repr(now_value)
        message = (
            f"{node.value!r}{role} is {_READ_AS.get(then, then)} to YAML 1.1 readers"
            f" (PyYAML, chaos run) but {_READ_AS.get(now, now)} here: quote it,"
            " or write it so both read it alike"
        )
        line = node.start_mark.line + 1
        self.yaml11.append(Problem(self.source, line, path, message))


def _value(text: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_READ_AS = {
    "tag:yaml.org,2002:bool": "a boolean",
    _INT: "an integer",
    _FLOAT: "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:null": "null",
}
