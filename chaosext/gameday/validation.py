"""Load and validate a game-day file into a GameDay, naming file, field and line.

The file is read by the one loader of user files (`chaosext.userfile`: YAML 1.2,
so `on:` stays a key). Every problem found is reported (not just the first), one
line each, as `FILE:LINE: FIELD: what is wrong`.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from chaosext import userfile
from chaosext.gameday import model
from chaosext.gameday.cron import CronError, CronSchedule, load_timezone

__all__ = ["GameDayError", "GameDaySpec", "load_game_day"]

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class GameDayError(userfile.UserFileError):
    """A game-day file that cannot be used; `problems` holds one per problem."""


def _cron(expression: str) -> str:
    try:
        CronSchedule.parse(expression)  # its time zone is checked on its own
    except CronError as exc:
        raise userfile.fail(str(exc)) from None
    return expression


def _zone(name: str) -> str:
    try:
        load_timezone(name)
    except CronError as exc:
        raise userfile.fail(str(exc)) from None
    return name


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise userfile.fail(f"{url!r} is not an http(s) URL")
    return url


def _var_name(key: str) -> str:
    if not _VAR_NAME.match(key):
        raise userfile.fail(
            f"variable name {key!r} must be letters, digits, _ . - (no : or =)"
        )
    return key


def _existing_file(value: str, info: ValidationInfo) -> str:
    """With `check_files` in the context: the file exists and parses as a mapping."""
    context = info.context or {}
    if not context.get("check_files", True):
        return value
    target = (Path(context.get("base", ".")) / value).resolve()
    if not target.is_file():
        raise userfile.fail(f"file not found: {target}")
    problem = _parse_problem(target)
    if problem:
        raise userfile.fail(f"{target} {problem}")
    return value


def _parse_problem(target: Path) -> str | None:
    suffix = target.suffix.lower()
    document: Any
    try:
        if suffix == ".json":
            document = json.loads(target.read_text(encoding="utf-8"))
        elif suffix in (".yaml", ".yml"):
            document = userfile.read(target).data
        else:
            return None
    except (ValueError, OSError) as exc:
        first = exc.problems[0] if isinstance(exc, userfile.UserFileError) else exc
        return f"does not parse: {first}"
    return None if isinstance(document, dict) else "is not a mapping at its top level"


def _listed(value: Any) -> Any:
    """`on: failure` is short for `on: [failure]`."""
    return [value] if isinstance(value, str) else value


def _some_drill(drills: list[Any]) -> list[Any]:
    if not drills:
        raise userfile.fail("lists no drill")
    return drills


Text = Annotated[str, Field(min_length=1)]
FilePath = Annotated[str, Field(min_length=1), AfterValidator(_existing_file)]


class WebhookSpec(userfile.Strict):
    webhook: Annotated[str, AfterValidator(_http_url)]
    on: Annotated[list[model.NotifyWhen], BeforeValidator(_listed)] = Field(
        default_factory=lambda: cast(list[model.NotifyWhen], ["failure"])
    )


class DrillSpec(userfile.Strict):
    experiment: FilePath
    name: str | None = None
    var_files: list[FilePath] = Field(default_factory=list)
    vars: dict[Annotated[str, AfterValidator(_var_name)], Any] = Field(
        default_factory=dict
    )

    @property
    def label(self) -> str:
        return self.name or Path(self.experiment).stem


class GameDaySpec(userfile.Strict):
    """The game-day file as written (see docs/gameday.md)."""

    name: Annotated[str, Field(min_length=1)]
    schedule: Annotated[str, AfterValidator(_cron)]
    drills: Annotated[list[DrillSpec], AfterValidator(_some_drill)]
    description: str = ""
    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    on_failure: model.OnFailure = "stop"
    concurrency: model.Concurrency = "forbid"
    notify: list[WebhookSpec] = Field(default_factory=list)
    journals_dir: Text | None = None
    starting_deadline_seconds: Annotated[int, Field(ge=1)] | None = None

    def cross_check(self) -> Iterator[tuple[userfile.Loc, str]]:
        seen: dict[str, int] = {}
        for index, drill in enumerate(self.drills):
            if drill.label in seen:
                yield (
                    ("drills", index),
                    f"drill name {drill.label!r} is also drills[{seen[drill.label]}];"
                    " give one of them a distinct 'name'",
                )
            seen.setdefault(drill.label, index)


def load_game_day(path: Path | str, *, check_files: bool = True) -> model.GameDay:
    """Read and validate the game-day file at `path`.

    Raise GameDayError listing every problem (file, line, field). With
    `check_files=False` experiment and var files are neither required to exist
    nor parsed.
    """
    file = Path(path).resolve()
    context = {"base": file.parent, "check_files": check_files}
    try:
        spec = userfile.load(file, GameDaySpec, context)
    except userfile.UserFileError as exc:
        raise GameDayError(exc.problems) from None
    base = file.parent
    return model.GameDay(
        path=file,
        name=spec.name,
        description=spec.description,
        schedule=CronSchedule.parse(spec.schedule, spec.timezone),
        drills=tuple(
            model.Drill(
                name=drill.label,
                experiment=(base / drill.experiment).resolve(),
                var_files=tuple((base / f).resolve() for f in drill.var_files),
                vars=dict(drill.vars),
            )
            for drill in spec.drills
        ),
        on_failure=spec.on_failure,
        concurrency=spec.concurrency,
        notify=tuple(
            model.Webhook(hook.webhook, frozenset(cast(Any, hook.on)))
            for hook in spec.notify
        ),
        journals_dir=(
            (base / Path(spec.journals_dir).expanduser()).resolve()
            if spec.journals_dir
            else None
        ),
        starting_deadline_seconds=(
            spec.starting_deadline_seconds or model.DEFAULT_STARTING_DEADLINE
        ),
    )
