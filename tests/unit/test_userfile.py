"""The one loader of user files: YAML 1.2, every problem at once, file:line: field."""

from pathlib import Path

import pytest

from chaosext import userfile
from chaosext.gameday.validation import GameDayError, load_game_day
from chaosext.lab import topology

TOPOLOGY = """\
name: tiny
clusters:
  - name: c1
    region: r1
    nodes:
      - name: n1
        zone: z1
        labels: {enabled: yes, mode: on, off: 'x'}
workloads:
  - name: web
    replicas: {c1: 1}
"""

GAME_DAY = """\
name: nightly
description: yes
schedule: "@daily"
notify:
  - webhook: https://hooks.example.com/x
    on: always
drills:
  - experiment: exp.json
    vars: {flag: yes, when: 1:30, mode: 0777}
"""


class Sample(userfile.Strict):
    count: int
    label: str = ""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yaml11_words_stay_strings_in_a_topology(tmp_path: Path) -> None:
    """`yes`/`on` as label values stay the strings the schema wants; `off:` a key."""
    topo = topology.load(str(_write(tmp_path, "t.yaml", TOPOLOGY)))
    labels = topo.clusters[0].nodes[0].labels
    assert dict(labels) == {"enabled": "yes", "mode": "on", "off": "x"}


def test_yaml11_words_stay_strings_in_a_game_day(tmp_path: Path) -> None:
    """`on:` stays a key; `yes` and `1:30` stay text, `0777` is decimal (YAML 1.1
    made them True, 90 and octal 511)."""
    _write(tmp_path, "exp.json", '{"title": "t", "method": []}')
    game_day = load_game_day(_write(tmp_path, "gd.yaml", GAME_DAY))
    assert game_day.description == "yes"
    assert game_day.notify[0].on == frozenset({"always"})
    assert game_day.drills[0].vars == {"flag": "yes", "when": "1:30", "mode": 777}


def test_every_topology_problem_at_once(tmp_path: Path) -> None:
    """Three mistakes in three places: three lines, each file:line: field."""
    text = (
        TOPOLOGY.replace("region: r1", "region: 7").replace("{c1: 1}", "{c1: -1}")
        + "seed: many\n"
    )
    path = _write(tmp_path, "t.yaml", text)
    with pytest.raises(topology.TopologyError) as caught:
        topology.load(str(path))
    assert str(caught.value).splitlines() == [
        f"{path}:4: clusters[0].region: expected a string, got an integer"
        " (quote it to keep it text)",
        f"{path}:11: workloads[0].replicas.c1: must be >= 0, got -1",
        f"{path}:12: seed: expected an integer, got a string",
    ]


def test_every_game_day_problem_at_once(tmp_path: Path) -> None:
    """A bad value, an unknown key and a missing file are reported together."""
    text = GAME_DAY.replace("on: always", "on: sometimes").replace("vars:", "varz:")
    path = _write(tmp_path, "gd.yaml", text)
    with pytest.raises(GameDayError) as caught:
        load_game_day(path)
    lines = str(caught.value).splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        [f"{path}:6", "notify[0].on[0]"],
        [f"{path}:8", "drills[0].experiment"],
        [f"{path}:9", "drills[0].varz"],
    ]
    assert "'sometimes' is not one of failure, success, always" in lines[0]
    assert "file not found" in lines[1]
    assert "unknown key 'varz' (did you mean 'vars'?)" in lines[2]


def test_load_returns_the_model_and_reads_json(tmp_path: Path) -> None:
    """`load(path, Model)` -> a Model instance, for YAML and JSON alike."""
    assert userfile.load(_write(tmp_path, "a.yaml", "count: 3\n"), Sample) == Sample(
        count=3
    )
    path = _write(tmp_path, "a.json", '{\n  "count": 2,\n  "label": "x"\n}\n')
    assert userfile.load(path, Sample).label == "x"


def test_json_problems_name_their_line(tmp_path: Path) -> None:
    """A JSON file's bad value is reported at its line like a YAML one."""
    path = _write(tmp_path, "a.json", '{\n  "count": "2",\n  "lable": "x"\n}\n')
    with pytest.raises(userfile.UserFileError) as caught:
        userfile.load(path, Sample)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: count: expected an integer, got a string",
        f"{path}:3: lable: unknown key 'lable' (did you mean 'label'?)",
    ]


def test_duplicate_keys_and_bad_syntax_name_the_line(tmp_path: Path) -> None:
    """YAML 1.2 forbids duplicate keys (PyYAML keeps the last silently)."""
    path = _write(tmp_path, "a.yaml", "count: 1\nlabel: a\ncount: 2\n")
    with pytest.raises(userfile.UserFileError, match=rf"{path}:3: count: duplicate"):
        userfile.load(path, Sample)
    path = _write(tmp_path, "b.yaml", "count: [1\n")
    with pytest.raises(userfile.UserFileError, match=rf"{path}:2: not valid YAML"):
        userfile.load(path, Sample)


def test_missing_file_is_one_problem(tmp_path: Path) -> None:
    """A file that cannot be read: `file: cannot read: why`."""
    path = tmp_path / "gone.yaml"
    with pytest.raises(userfile.UserFileError, match=rf"^{path}: cannot read: "):
        userfile.load(path, Sample)


def test_yaml11_surprises_are_listed_for_files_yaml11_tools_also_read() -> None:
    """`on`, `yes`, `0777` read otherwise by PyYAML (as chaos reads var files)."""
    doc = userfile.parse("on: yes\nmode: 0777\nquoted: 'yes'\nn: 12\n", "v.yaml")
    assert doc.data == {"on": "yes", "mode": 777, "quoted": "yes", "n": 12}
    assert [(p.line, userfile.format_path(p.path or ())) for p in doc.yaml11] == [
        (1, "on"),
        (1, "on"),
        (2, "mode"),
    ]
    assert "'0777' is 511 to YAML 1.1 readers" in str(doc.yaml11[2])
