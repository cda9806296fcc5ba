"""Game-day files: what loads, and the errors that name file, line and field."""

from pathlib import Path

import pytest

from chaosext.gameday import model
from chaosext.gameday.validation import GameDayError, load_game_day
from tests.gameday import trivial

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
name: nightly
description: two drills
schedule: "30 2 * * *"
timezone: Europe/Paris
on_failure: continue
concurrency: allow
journals_dir: archive
notify:
  - webhook: https://hooks.example.com/x
    on: [failure, success]
drills:
  - experiment: exp.json
    var_files: [vars.yaml]
    vars: {replicas: 2, ratio: 0.5, dry: false, label: a, hosts: [x, y]}
  - experiment: exp.json
    name: again
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "exp.json").write_text('{"title": "t", "method": []}')
    (tmp_path / "vars.yaml").write_text("configuration: {a: 1}\n")
    path = tmp_path / "gd.yaml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(GameDayError) as caught:
        load_game_day(_write(tmp_path, text))
    return str(caught.value)


def test_good_file_loads_every_field(tmp_path: Path) -> None:
    """A complete file becomes a GameDay with absolute paths and typed fields."""
    game_day = load_game_day(_write(tmp_path, GOOD))
    assert (game_day.name, game_day.timezone) == ("nightly", "Europe/Paris")
    assert (game_day.on_failure, game_day.concurrency) == ("continue", "allow")
    assert game_day.journals_dir == tmp_path / "archive"
    assert [drill.name for drill in game_day.drills] == ["exp", "again"]
    assert game_day.drills[0].experiment == tmp_path / "exp.json"
    assert game_day.drills[0].var_files == (tmp_path / "vars.yaml",)
    assert game_day.notify == (
        model.Webhook("https://hooks.example.com/x", frozenset({"failure", "success"})),
    )


def test_defaults_for_optional_fields(tmp_path: Path) -> None:
    """Only name, schedule and drills are required; the rest default safely."""
    game_day = load_game_day(
        _write(
            tmp_path, "name: n\nschedule: '@daily'\ndrills: [{experiment: exp.json}]"
        )
    )
    assert (game_day.timezone, game_day.on_failure, game_day.concurrency) == (
        "UTC",
        "stop",
        "forbid",
    )
    assert game_day.notify == ()


def test_vars_keep_their_yaml_types_on_the_chaos_command_line(tmp_path: Path) -> None:
    """Each var becomes `--var key[:type]=value` that chaos converts back."""
    drill = load_game_day(_write(tmp_path, GOOD)).drills[0]
    assert drill.chaos_arguments() == [
        "--var-file",
        str(tmp_path / "vars.yaml"),
        "--var",
        "replicas:int=2",
        "--var",
        "ratio:float=0.5",
        "--var",
        "dry:bool=false",
        "--var",
        "label=a",
        "--var",
        'hosts:json=["x", "y"]',
    ]


def test_six_field_schedule_has_seconds_first(tmp_path: Path) -> None:
    """`*/2 * * * * *` is accepted and means every two seconds."""
    text = "name: n\nschedule: '*/2 * * * * *'\ndrills: [{experiment: exp.json}]"
    schedule = load_game_day(_write(tmp_path, text)).schedule
    assert schedule.has_seconds


@pytest.mark.parametrize(
    ("change", "line", "field", "message"),
    [
        (
            ('schedule: "30 2 * * *"', 'schedule: "61 * * * *"'),
            3,
            "schedule",
            "bad cron expression",
        ),
        (
            ('schedule: "30 2 * * *"', 'schedule: "* * *"'),
            3,
            "schedule",
            "has 3 fields",
        ),
        (
            ("timezone: Europe/Paris", "timezone: Europe/Atlantis"),
            4,
            "timezone",
            "unknown time zone 'Europe/Atlantis'",
        ),
        (
            ("  - experiment: exp.json\n    name: again", "  - experiment: gone.json"),
            15,
            "drills[1].experiment",
            "file not found",
        ),
        (
            ("var_files: [vars.yaml]", "var_files: [nope.yaml]"),
            13,
            "drills[0].var_files[0]",
            "file not found",
        ),
        (
            ("description:", "descripton:"),
            2,
            "descripton",
            "did you mean 'description'?",
        ),
        (
            ("    name: again", "    nmae: again"),
            16,
            "drills[1].nmae",
            "did you mean 'name'?",
        ),
        (
            ("    on: [failure, success]", "    when: [failure]"),
            10,
            "notify[0].when",
            "unknown key 'when' (known keys: webhook, on)",
        ),
        (
            ("on_failure: continue", "on_failure: halt"),
            5,
            "on_failure",
            "'halt' is not one of stop, continue",
        ),
        (
            ("concurrency: allow", "concurrency: Forbid"),
            6,
            "concurrency",
            "did you mean 'forbid'?",
        ),
        (
            ("on: [failure, success]", "on: [failure, sucess]"),
            10,
            "notify[0].on[1]",
            "did you mean 'success'?",
        ),
        (
            ("https://hooks.example.com/x", "ftp://x"),
            9,
            "notify[0].webhook",
            "is not an http(s) URL",
        ),
        (("name: nightly", "name: [a, b]"), 1, "name", "expected a string, got a list"),
        (
            ("var_files: [vars.yaml]", "var_files: vars.yaml"),
            13,
            "drills[0].var_files",
            "expected a list, got a string",
        ),
        (
            ("vars: {replicas: 2,", "vars: {'a:b': 2,"),
            14,
            "drills[0].vars.a:b",
            "no : or =",
        ),
        (
            ("    name: again", "    name: exp"),
            15,
            "drills[1]",
            "drill name 'exp' is also drills[0]",
        ),
    ],
)
def test_bad_input_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str, message: str
) -> None:
    """Each bad input gives `FILE:LINE: FIELD: message`."""
    assert change[0] in GOOD
    problems = _problems(tmp_path, GOOD.replace(change[0], change[1]))
    assert f"{tmp_path / 'gd.yaml'}:{line}: {field}: " in problems
    assert message in problems


def test_missing_required_keys_are_named(tmp_path: Path) -> None:
    """A file without name, schedule and drills lists all three."""
    problems = _problems(tmp_path, "description: x\n")
    for key in ("name", "schedule", "drills"):
        assert f"missing required key '{key}'" in problems


def test_empty_drill_list_is_refused(tmp_path: Path) -> None:
    """A game day must run something."""
    assert "drills: lists no drill" in _problems(
        tmp_path, "name: n\nschedule: '@daily'\ndrills: []\n"
    )


def test_experiment_that_does_not_parse_is_refused(tmp_path: Path) -> None:
    """A broken experiment is caught when the file is loaded, not at 6 a.m."""
    path = _write(tmp_path, GOOD)
    (tmp_path / "exp.json").write_text("{not json")
    with pytest.raises(
        GameDayError, match=r"drills\[0\]\.experiment: .* does not parse"
    ):
        load_game_day(path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    """A YAML syntax error names file and line."""
    path = tmp_path / "gd.yaml"
    path.write_text("name: n\ndrills: [\n  {experiment: x.json\n")
    with pytest.raises(GameDayError, match=rf"{path}:\d+: not valid YAML"):
        load_game_day(path)


def test_on_is_a_key_not_a_yaml11_boolean(tmp_path: Path) -> None:
    """`on:` stays a key (YAML 1.2 booleans), so webhooks keep their conditions."""
    game_day = load_game_day(
        _write(tmp_path, GOOD.replace("[failure, success]", "always"))
    )
    assert game_day.notify[0].on == frozenset({"always"})


def test_check_files_false_skips_file_checks(tmp_path: Path) -> None:
    """Without file checks a missing experiment is not an error."""
    path = _write(tmp_path, GOOD.replace("exp.json", "elsewhere.json"))
    assert load_game_day(path, check_files=False).drills[0].experiment == (
        tmp_path / "elsewhere.json"
    )


def test_shipped_weekly_failover_is_valid() -> None:
    """experiments/gamedays/weekly-failover.yaml loads, with its experiments."""
    game_day = load_game_day(REPO / "experiments/gamedays/weekly-failover.yaml")
    assert game_day.drills
    assert all(drill.experiment.is_file() for drill in game_day.drills)


def test_trivial_helpers_write_a_loadable_game_day(tmp_path: Path) -> None:
    """The test factory's files pass validation (guards the other tests)."""
    trivial.write_json(tmp_path / "p.json", trivial.passing(tmp_path / "m"))
    path = trivial.write_game_day(tmp_path / "gd.yaml", [{"experiment": "p.json"}])
    assert load_game_day(path).drills[0].name == "p"


def test_cli_reports_bad_file_in_one_line_per_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`meshdrill gameday validate` on a bad file: exit 2, file:line: field: why."""
    from chaosext.cli import main

    path = _write(tmp_path, GOOD.replace("on_failure: continue", "on_falure: stop"))
    assert main(["gameday", "validate", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"meshdrill: {path}:5: on_falure: unknown key")
    assert "did you mean 'on_failure'?" in error
