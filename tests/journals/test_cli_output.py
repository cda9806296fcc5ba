"""`journals list|show -o json|yaml`: the data alone on stdout, for scripts."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chaosext.journals import cli
from tests.journals.conftest import archive_many, text

MESHDRILL = str(Path(sys.executable).with_name("meshdrill"))


def test_list_json_is_the_ledger_entries(archive_dir, console):
    """`list -o json` holds every ledger entry under `items`, nothing else printed."""
    done = archive_many(archive_dir, 2)
    assert cli.run(["list", "--dir", str(archive_dir), "-o", "json"], console) == 0
    data = json.loads(text(console))
    assert [e["seq"] for e in data["items"]] == [1, 2]
    assert data["items"][1]["journal"] == done[1].path.name
    assert data["items"][0]["verdict"] == "passed"
    assert data["unrecorded"] == []


def test_show_yaml_holds_the_entry_and_the_journal(archive_dir, console):
    """`show ID -o yaml` gives the ledger entry and the whole (redacted) journal."""
    archive_many(archive_dir, 1, verdict="failed")
    assert cli.run(["show", "1", "--dir", str(archive_dir), "-o", "yaml"], console) == 0
    data = yaml.safe_load(text(console))
    assert data["entry"]["seq"] == 1
    assert data["journal"]["meshdrill"]["reasons"] == ["failover: 12% to cluster-a"]
    assert data["error"] is None


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_list_output_pipes_into_a_parser(archive_dir, fmt):
    """`meshdrill journals list -o json | python -m json.tool` works (and yaml)."""
    archive_many(archive_dir, 1)
    listed = subprocess.run(
        [MESHDRILL, "journals", "list", "--dir", str(archive_dir), "-o", fmt],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    if fmt == "json":
        subprocess.run(
            [sys.executable, "-m", "json.tool"],
            input=listed.stdout,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    assert yaml.safe_load(listed.stdout)["items"][0]["seq"] == 1
