"""Load and validate a game-day file into a GameDay, naming file, field and line.

Every problem found is reported (not just the first), one line each, as
`FILE:LINE: FIELD: what is wrong`.
"""

import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import yaml

from chaosext.gameday import model
from chaosext.gameday.cron import CronError, CronSchedule, load_timezone
from chaosext.gameday.yamlfile import KeyPath, Located, format_path, load_located

__all__ = ["GameDayError", "load_game_day"]

TOP_KEYS = (
    "name",
    "description",
    "schedule",
    "timezone",
    "drills",
    "on_failure",
    "concurrency",
    "notify",
    "journals_dir",
    "starting_deadline_seconds",
)
DRILL_KEYS = ("experiment", "name", "var_files", "vars")
WEBHOOK_KEYS = ("webhook", "on")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "nothing (null)",
}


class GameDayError(ValueError):
    """A game-day file that cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _kind(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class _Checker:
    """Collects problems while reading one located document."""

    def __init__(self, path: Path, located: Located) -> None:
        self.path = path
        self.located = located
        self.problems: list[str] = []

    def problem(self, where: KeyPath, message: str) -> None:
        line = self.located.line(where)
        location = f"{self.path}:{line}" if line else str(self.path)
        self.problems.append(f"{location}: {format_path(where)}: {message}")

    def mapping(
        self, value: object, where: KeyPath, allowed: tuple[str, ...]
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(where, f"expected a mapping, got {_kind(value)}")
            return None
        for key in value:
            if str(key) not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"known keys: {', '.join(allowed)}"
                )
                self.problem((*where, str(key)), f"unknown key {key!r} ({hint})")
        return cast(dict[str, Any], value)

    def typed(
        self,
        mapping: dict[str, Any],
        key: str,
        where: KeyPath,
        kind: type,
        *,
        required: bool = False,
    ) -> Any:
        if key not in mapping:
            if required:
                self.problem(where, f"missing required key {key!r}")
            return None
        value = mapping[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            self.problem(
                (*where, key),
                f"expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {_kind(value)}",
            )
            return None
        if kind is str and required and not value.strip():
            self.problem((*where, key), "must not be empty")
            return None
        return value

    def choice(
        self, mapping: dict[str, Any], key: str, choices: tuple[str, ...], default: str
    ) -> str:
        value = self.typed(mapping, key, (), str)
        if value is None:
            return default
        if value not in choices:
            self.problem((key,), _not_one_of(value, choices))
            return default
        return str(value)

    def existing_file(
        self, base: Path, value: str, where: KeyPath, parse: bool
    ) -> Path | None:
        target = (base / value).resolve()
        if not target.is_file():
            self.problem(where, f"file not found: {target}")
            return None
        if parse:
            self._parses(target, where)
        return target

    def _parses(self, target: Path, where: KeyPath) -> None:
        loaders: dict[str, Callable[[str], object]] = {
            ".json": json.loads,
            ".yaml": yaml.safe_load,
            ".yml": yaml.safe_load,
        }
        loader = loaders.get(target.suffix.lower())
        if loader is None:
            return
        try:
            document = loader(target.read_text(encoding="utf-8"))
        except (ValueError, yaml.YAMLError, OSError) as exc:
            self.problem(where, f"{target} does not parse: {exc}")
            return
        if not isinstance(document, dict):
            self.problem(where, f"{target} is not a mapping at its top level")


def _not_one_of(value: object, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{value!r} is not one of {', '.join(choices)}{hint}"


def _drill(
    check: _Checker, raw: object, index: int, check_files: bool
) -> model.Drill | None:
    where: KeyPath = ("drills", index)
    drill = check.mapping(raw, where, DRILL_KEYS)
    if drill is None:
        return None
    base = check.path.parent
    experiment_text = check.typed(drill, "experiment", where, str, required=True)
    experiment = None
    if experiment_text is not None:
        experiment = (base / experiment_text).resolve()
        if check_files:
            experiment = check.existing_file(
                base, experiment_text, (*where, "experiment"), parse=True
            )
    name = check.typed(drill, "name", where, str)
    var_files: list[Path] = []
    for position, item in enumerate(check.typed(drill, "var_files", where, list) or []):
        item_where = (*where, "var_files", position)
        if not isinstance(item, str):
            check.problem(item_where, f"expected a file path, got {_kind(item)}")
            continue
        found = (
            check.existing_file(base, item, item_where, parse=True)
            if check_files
            else (base / item).resolve()
        )
        if found is not None:
            var_files.append(found)
    variables = check.typed(drill, "vars", where, dict) or {}
    for key in variables:
        if not _VAR_NAME.match(str(key)):
            check.problem(
                (*where, "vars", str(key)),
                f"variable name {key!r} must be letters, digits, _ . - (no : or =)",
            )
    if experiment is None or experiment_text is None:
        return None
    return model.Drill(
        name=name or Path(experiment_text).stem,
        experiment=experiment,
        var_files=tuple(var_files),
        vars={str(key): value for key, value in variables.items()},
    )


def _webhook(check: _Checker, raw: object, index: int) -> model.Webhook | None:
    where: KeyPath = ("notify", index)
    hook = check.mapping(raw, where, WEBHOOK_KEYS)
    if hook is None:
        return None
    url = check.typed(hook, "webhook", where, str, required=True)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            check.problem((*where, "webhook"), f"{url!r} is not an http(s) URL")
            url = None
    raw_on = hook.get("on", ["failure"])
    whens = [raw_on] if isinstance(raw_on, str) else raw_on
    if not isinstance(whens, list):
        check.problem((*where, "on"), f"expected a list, got {_kind(raw_on)}")
        return None
    choices = ("failure", "success", "always")
    for when in whens:
        if when not in choices:
            check.problem((*where, "on"), _not_one_of(when, choices))
            return None
    if url is None:
        return None
    return model.Webhook(url, frozenset(cast(list[model.NotifyWhen], whens)))


def _schedule(check: _Checker, data: dict[str, Any]) -> CronSchedule | None:
    expression = check.typed(data, "schedule", (), str, required=True)
    zone = check.typed(data, "timezone", (), str) or "UTC"
    try:
        load_timezone(zone)
    except CronError as exc:
        check.problem(("timezone",), str(exc))
        return None
    if expression is None:
        return None
    try:
        return CronSchedule.parse(expression, zone)
    except CronError as exc:
        check.problem(("schedule",), str(exc))
        return None


def load_game_day(path: Path | str, *, check_files: bool = True) -> model.GameDay:
    """Read and validate the game-day file at `path`.

    Raise GameDayError listing every problem (file, line, field). With
    `check_files=False` experiment and var files are neither required to exist
    nor parsed.
    """
    file = Path(path).resolve()
    located = load_located(file)
    check = _Checker(file, located)
    data = check.mapping(located.data, (), TOP_KEYS)
    if data is None:
        raise GameDayError(check.problems)
    name = check.typed(data, "name", (), str, required=True)
    description = check.typed(data, "description", (), str) or ""
    schedule = _schedule(check, data)
    raw_drills = check.typed(data, "drills", (), list, required=True)
    if raw_drills == []:
        check.problem(("drills",), "lists no drill")
    drills = [
        _drill(check, raw, index, check_files)
        for index, raw in enumerate(raw_drills or [])
    ]
    seen: dict[str, int] = {}
    for index, drill in enumerate(drills):
        if drill is not None and drill.name in seen:
            check.problem(
                ("drills", index),
                f"drill name {drill.name!r} is also drills[{seen[drill.name]}]; "
                "give one of them a distinct 'name'",
            )
        elif drill is not None:
            seen[drill.name] = index
    on_failure = check.choice(data, "on_failure", ("stop", "continue"), "stop")
    concurrency = check.choice(data, "concurrency", ("forbid", "allow"), "forbid")
    hooks = [
        _webhook(check, raw, index)
        for index, raw in enumerate(check.typed(data, "notify", (), list) or [])
    ]
    journals = check.typed(data, "journals_dir", (), str)
    deadline = check.typed(data, "starting_deadline_seconds", (), int)
    if deadline is not None and deadline < 1:
        check.problem(("starting_deadline_seconds",), "must be at least 1")
    if check.problems or schedule is None or name is None:
        raise GameDayError(check.problems)
    return model.GameDay(
        path=file,
        name=name,
        description=description,
        schedule=schedule,
        drills=tuple(drill for drill in drills if drill is not None),
        on_failure=cast(model.OnFailure, on_failure),
        concurrency=cast(model.Concurrency, concurrency),
        notify=tuple(hook for hook in hooks if hook is not None),
        journals_dir=(
            (file.parent / Path(journals).expanduser()).resolve() if journals else None
        ),
        starting_deadline_seconds=deadline or model.DEFAULT_STARTING_DEADLINE,
    )
