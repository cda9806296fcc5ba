"""Archiving: file names, ledger lines, atomic writes, locations, the control."""

import json
import logging
import re
import threading
from pathlib import Path

import pytest

from chaosext.controls import archive as control
from chaosext.journals import archive, cli, ledger, provenance
from tests.journals import factory
from tests.journals.conftest import archive_many

NAME = re.compile(r"^\d{8}T\d{6}Z-[A-Za-z0-9_.-]+-[0-9a-f]{12}\.json$")


def test_two_drills_leave_two_journals_two_lines_and_verify(archive_dir, console):
    """Two archived journals back to back: two files, two chained lines, verify 0."""
    archive_many(archive_dir, 2)
    files = sorted(p.name for p in archive_dir.glob("*.json"))
    lines = (archive_dir / ledger.LEDGER_NAME).read_bytes().splitlines()
    assert (len(files), len(lines)) == (2, 2)
    assert cli.run(["verify", "--dir", str(archive_dir)], console) == 0


def test_file_names_sort_by_time(archive_dir):
    """Names are <UTC start>-<experiment>-<digest>.json and list in run order."""
    done = archive_many(archive_dir, 3)
    names = [d.path.name for d in done]
    assert all(NAME.match(n) for n in names)
    assert names == sorted(names)
    assert names[0].startswith("20261121T223105Z-region_outage-")


def test_ledger_lines_chain_and_carry_provenance(archive_dir):
    """Each line's prev is the line before's digest; who/what/where are recorded."""
    archive_many(archive_dir, 2)
    first, second = archive.entries(archive_dir)
    assert first["prev"] == ledger.GENESIS
    assert second["prev"] == first["line_sha256"]
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["contexts"]["cluster-b"] == "http://127.0.0.1:40002"
    assert first["verdict"] == "passed"
    assert first["verdict_from"] == "meshdrill"
    assert set(first["versions"]) == {"meshdrill", "chaostoolkit", "chaoslib"}
    assert first["experiment_path_from"] == "command line"
    assert first["user"]
    assert first["host"]


def test_journal_digest_is_the_file_digest(archive_dir):
    """journal_sha256 is the SHA-256 of the archived file's bytes."""
    (done,) = archive_many(archive_dir, 1)
    assert done.entry["journal_sha256"] == ledger.sha256_hex(done.path.read_bytes())


def test_verdict_derived_without_meshdrill_record(archive_dir):
    """A journal without the verdict control's record gets a derived verdict."""
    journal = factory.journal(verdict=None)
    journal["steady_states"]["after"]["steady_state_met"] = False
    done = archive.archive_journal(journal, directory=archive_dir, environ={}, argv=[])
    assert (done.entry["verdict"], done.entry["verdict_from"]) == ("failed", "derived")


def test_interrupted_write_leaves_no_partial_file(archive_dir, monkeypatch):
    """json.dump raising midway leaves neither a journal, a temp file nor a line."""
    archive_many(archive_dir, 1)
    before = sorted(p.name for p in archive_dir.iterdir())
    ledger_bytes = (archive_dir / ledger.LEDGER_NAME).read_bytes()
    real_dump = json.dump

    def dump_half(obj, fp, **kwargs):
        fp.write(json.dumps(obj, **kwargs)[:200])
        raise OSError("disk full")

    monkeypatch.setattr(archive.json, "dump", dump_half)
    with pytest.raises(OSError, match="disk full"):
        archive_many(archive_dir, 1)
    monkeypatch.setattr(archive.json, "dump", real_dump)
    assert sorted(p.name for p in archive_dir.iterdir()) == before
    assert (archive_dir / ledger.LEDGER_NAME).read_bytes() == ledger_bytes


def test_concurrent_drills_are_serialised(archive_dir):
    """Eight drills archiving at once get distinct seqs and a chain that verifies."""
    archive.ensure_dir(archive_dir)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            archive_many(archive_dir, 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    seqs = [e["seq"] for e in archive.entries(archive_dir)]
    assert seqs == list(range(1, 9))
    assert len(list(archive_dir.glob("*.json"))) == 8


@pytest.mark.parametrize(
    ("cli_dir", "config", "env", "expected"),
    [
        ("c", {"journals_dir": "k"}, {"MESHDRILL_JOURNALS_DIR": "e"}, "c"),
        (None, {"journals_dir": "k"}, {"MESHDRILL_JOURNALS_DIR": "e"}, "k"),
        (None, {}, {"MESHDRILL_JOURNALS_DIR": "e"}, "e"),
        (None, None, {}, "journals"),
    ],
)
def test_directory_precedence(cli_dir, config, env, expected):
    """CLI --dir beats configuration, which beats the environment, then ./journals."""
    assert archive.resolve_dir(cli_dir, config, env) == Path(expected)


def test_uncreatable_directory_is_named(tmp_path):
    """A directory whose parent is missing gives an error naming both."""
    target = tmp_path / "nope" / "journals"
    with pytest.raises(archive.ArchiveError, match=r"nope/journals.*parent"):
        archive.ensure_dir(target)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["chaos", "run", "x.json"], "x.json"),
        (["chaos", "--settings", "s.yaml", "run", "--var", "a=1", "x.json"], "x.json"),
        (["chaos", "run", "x.json", "--journal-path", "j.json"], "x.json"),
        (["chaos", "run", "--dry", "probes", "--fail-fast", "e.yaml"], "e.yaml"),
        (["meshdrill", "gameday", "run"], None),
        (["pytest"], None),
    ],
)
def test_experiment_source_from_chaos_command_line(argv, expected):
    """The SOURCE argument of `chaos run` is found among its options."""
    assert provenance.source_from_argv(argv) == expected


def test_experiment_digest_is_of_the_file(archive_dir, tmp_path):
    """When the experiment file is found, experiment_sha256 covers its bytes."""
    path = tmp_path / "region_outage.json"
    path.write_text(json.dumps(factory.experiment()))
    done = archive.archive_journal(
        factory.journal(),
        directory=archive_dir,
        environ={provenance.EXPERIMENT_ENV: str(path)},
        argv=[],
    )
    assert done.entry["experiment_path"] == str(path)
    assert done.entry["experiment_sha256"] == ledger.sha256_hex(path.read_bytes())
    assert done.entry["experiment_sha256_of"] == "file"


def test_control_archives_without_touching_the_run_journal(tmp_path):
    """The control archives into journals_dir and leaves chaos run's journal as is."""
    state = factory.journal()
    before = json.dumps(state, sort_keys=True)
    target = tmp_path / "arch"
    control.after_experiment_control(
        context=state["experiment"],
        state=state,
        configuration={"journals_dir": str(target)},
        secrets={"lab": {"token": factory.SECRET}},
    )
    assert json.dumps(state, sort_keys=True) == before
    assert len(archive.entries(target)) == 1


def test_control_logs_an_error_naming_the_directory(tmp_path, caplog):
    """When the archive cannot be written the control logs why, and does not raise."""
    target = tmp_path / "missing" / "journals"
    with caplog.at_level(logging.ERROR, logger="chaostoolkit"):
        control.after_experiment_control(
            context={},
            state=factory.journal(),
            configuration={"journals_dir": str(target)},
        )
    assert "NOT archived" in caplog.text
    assert str(target) in caplog.text


def test_corrupt_ledger_tail_keeps_the_journal(archive_dir):
    """A torn last ledger line stops the append but keeps the journal for verify."""
    archive_many(archive_dir, 1)
    with (archive_dir / ledger.LEDGER_NAME).open("ab") as fh:
        fh.write(b'{"seq": 2, "jour')
    with pytest.raises(archive.ArchiveError, match=r"ledger.jsonl: ledger line 2"):
        archive_many(archive_dir, 1)
    assert len(list(archive_dir.glob("*.json"))) == 2
