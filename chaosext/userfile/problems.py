"""A problem in a user's file, and the one error that carries all of them."""

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Loc", "Problem", "UserFileError", "format_path"]

Loc = tuple[str | int, ...]
"""Where a value sits in a document: `("drills", 0, "experiment")`."""


def format_path(path: Loc) -> str:
    """`("drills", 0, "experiment")` -> `drills[0].experiment`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: `file:line: field: message` when printed.

    `line` is 0 and `path` None for problems of the whole file (cannot read it).
    """

    file: str
    line: int
    path: Loc | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.path is None:
            return f"{where}: {self.message}"
        return f"{where}: {format_path(self.path)}: {self.message}"


class UserFileError(ValueError):
    """A user's file that cannot be used; `problems` holds every problem found.

    `str(error)` is one line per problem, in the order of the file.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))
