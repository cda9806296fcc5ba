"""Read a YAML file keeping the line of every key and item, for error messages.

Booleans follow YAML 1.2 (only true/false): in PyYAML's YAML 1.1 a key named `on`
(as in `notify: [{on: [failure]}]`) would silently become the boolean True.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["KeyPath", "Located", "YamlFileError", "format_path", "load_located"]

KeyPath = tuple[str | int, ...]


class YamlFileError(ValueError):
    """The file cannot be read or is not valid YAML; the message names the line."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass(frozen=True)
class Located:
    """A parsed YAML document and the 1-based line of each path in it."""

    data: Any
    lines: dict[KeyPath, int]

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def format_path(path: KeyPath) -> str:
    """`("drills", 0, "experiment")` -> `drills[0].experiment`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def _collect(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                _collect(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _collect(item, child, lines)


def load_located(path: Path) -> Located:
    """Parse the YAML file at `path`; YamlFileError names the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {})
        lines: dict[KeyPath, int] = {(): node.start_mark.line + 1}
        _collect(node, (), lines)
        return Located(loader.construct_document(node), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise YamlFileError(f"{where}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise YamlFileError(f"{path}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
