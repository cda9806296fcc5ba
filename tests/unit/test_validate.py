"""`meshdrill validate`: file, line and column for what `chaos run` cannot read."""

from pathlib import Path

import pytest

from chaosext import cli
from tests.drills.drilling import ROOT


def test_an_experiment_that_is_not_json_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A syntax error is reported as file:line:column, no traceback, exit 1."""
    path = tmp_path / "broken.json"
    path.write_text('{"title": "x",\n "method": [,]}\n')
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:2:13: not valid JSON" in out
    assert "Traceback" not in out


def test_a_var_file_is_checked_against_an_experiment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --experiment, a misspelt key is named with its line and close match."""
    path = tmp_path / "vars.yaml"
    path.write_text("configuration:\n  cluster_a_contxt: prod-a\n")
    experiment = ROOT / "experiments" / "region_outage.json"
    assert cli.main(["validate", str(path), "--experiment", str(experiment)]) == 1
    assert f"{path}:2: configuration key 'cluster_a_contxt'" in capsys.readouterr().out


def test_shipped_files_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    """Every shipped experiment and example var file validates."""
    files = sorted((ROOT / "experiments").glob("*.json"))
    files += sorted((ROOT / "experiments" / "config").glob("*.yaml"))
    assert cli.main(["validate", *map(str, files)]) == 0
