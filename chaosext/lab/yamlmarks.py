"""YAML loading that remembers the line of every value, for error messages."""

from typing import Any

import yaml

Path = tuple[str | int, ...]


class MarkedYaml:
    """A parsed YAML document plus the 1-based line of each value by its path."""

    def __init__(self, data: Any, lines: dict[Path, int]) -> None:
        self.data = data
        self.lines = lines

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that exists."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


def load(text: str) -> MarkedYaml:
    """Parse one YAML document; raise yaml.YAMLError on bad syntax."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return MarkedYaml(None, {})
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    _walk(node, (), lines)
    return MarkedYaml(data, lines)


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, str(key.value))
                _walk(value, child, lines)
                # A missing or wrong value is best shown at its key's line.
                lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def dotted(path: Path) -> str:
    """`('clusters', 0, 'name')` -> `clusters[0].name`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"
