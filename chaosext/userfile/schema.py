"""Validate a parsed document against a pydantic model; every problem, with lines.

Models derive from `Strict` (no coercion, unknown keys refused). Validators raise
`fail(message)` for a message of their own. After the model validates, its
`cross_check()` (if it has one) yields `(path, message)` for problems that span
fields (a reference to a cluster that is not declared, a duplicate name).
"""

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from chaosext.userfile import yaml12
from chaosext.userfile.problems import Loc, Problem, UserFileError

__all__ = ["Strict", "fail", "load", "validate"]

M = TypeVar("M", bound=BaseModel)

_KINDS = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "nothing (null)",
}
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


class Strict(BaseModel):
    """Base of the file schemas: exact types (no "2" for 2), unknown keys refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def fail(message: str) -> PydanticCustomError:
    """An error to raise from a validator, reported with exactly `message`."""
    return PydanticCustomError("meshdrill", "{message}", {"message": message})


def kind(value: object) -> str:
    """`a list`, `an integer`, `nothing (null)`: what a value is, for messages."""
    return _KINDS.get(type(value), type(value).__name__)


def load(
    path: Path | str, model: type[M], context: Mapping[str, Any] | None = None
) -> M:
    """Read the YAML/JSON file at `path` and validate it as `model`.

    Raises UserFileError carrying every problem (`file:line: field: message`):
    unreadable file, bad syntax, then all schema problems, then cross-checks.
    """
    return validate(yaml12.read(path), model, context)


def validate(
    doc: yaml12.Document, model: type[M], context: Mapping[str, Any] | None = None
) -> M:
    """Validate an already parsed document as `model` (see `load`)."""
    try:
        instance = model.model_validate(doc.data, context=dict(context or {}))
    except ValidationError as exc:
        problems = [_problem(doc, model, error) for error in exc.errors()]
        raise UserFileError([*doc.problems, *_unique(problems)]) from None
    cross_check = getattr(instance, "cross_check", None)
    found = (
        [doc.problem(path, message) for path, message in cross_check()]
        if cross_check
        else []
    )
    if doc.problems or found:
        raise UserFileError([*doc.problems, *found])
    return instance


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _problem(
    doc: yaml12.Document, model: type[BaseModel], error: ErrorDetails
) -> Problem:
    loc: Loc = tuple(p for p in error["loc"] if p != "[key]")
    kind_of, value = error["type"], error.get("input")
    if kind_of == "missing":
        return doc.problem(loc[:-1], f"missing required key '{loc[-1]}'")
    if kind_of == "extra_forbidden":
        allowed = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else f"known keys: {', '.join(allowed)}"
        )
        return doc.problem(loc, f"unknown key '{loc[-1]}' ({hint})")
    if kind_of in _EXPECTED:
        quote = ""
        if kind_of == "string_type" and isinstance(value, bool | int | float):
            quote = " (quote it to keep it text)"
        return doc.problem(
            loc, f"expected {_EXPECTED[kind_of]}, got {kind(value)}{quote}"
        )
    if kind_of == "literal_error":
        choices = re.findall(
            r"'([^']*)'", str(error.get("ctx", {}).get("expected", ""))
        )
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return doc.problem(loc, f"{value!r} is not one of {', '.join(choices)}{hint}")
    if error["msg"] == "Keys should be strings" and loc:
        return doc.problem(loc[:-1], f"key {loc[-1]!r} is not a string (quote it)")
    ctx = error.get("ctx", {})
    if kind_of in ("greater_than_equal", "greater_than"):
        sign, bound = (">=", ctx.get("ge")) if "ge" in ctx else (">", ctx.get("gt"))
        return doc.problem(loc, f"must be {sign} {bound}, got {value!r}")
    if kind_of in ("too_short", "string_too_short"):
        return doc.problem(loc, "must not be empty")
    message = error["msg"].removeprefix("Value error, ")
    return doc.problem(loc, message)


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the schema allows at `loc` (empty if it cannot tell)."""
    current: Any = model
    for part in loc:
        current = _item_type(current, part)
        if current is None:
            return []
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _strip(tp: Any) -> Any:
    """`Annotated[X, ...]`, `X | None` -> X."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _item_type(tp: Any, part: str | int) -> Any:
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(str(part))
        return None if info is None else info.annotation
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None
