"""export: a tarball of a ledger slice that verifies on its own, and fails tampered."""

import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chaosext.journals import archive, cli, export, ledger
from tests.journals.conftest import archive_many, text


def set_times(directory: Path, times: list[str]) -> None:
    """Re-seal the ledger with given archive times (a chain made on other days)."""
    prev = ledger.GENESIS
    out = []
    for entry, when in zip(archive.entries(directory), times, strict=True):
        sealed = ledger.seal({**entry, "time": when}, entry["seq"], prev)
        prev = sealed["line_sha256"]
        out.append(ledger.encode_line(sealed))
    (directory / ledger.LEDGER_NAME).write_bytes(b"".join(out))


def member_bytes(tar: tarfile.TarFile, name: str) -> bytes:
    extracted = tar.extractfile(name)
    assert extracted is not None
    return extracted.read()


def rewrite(path: Path, change) -> None:
    """Rebuild a tarball with `change(name, data) -> data | None` (None drops it)."""
    with tarfile.open(path) as tar:
        members = {m.name: member_bytes(tar, m.name) for m in tar if m.isfile()}
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            new = change(name, data)
            if new is not None:
                info = tarfile.TarInfo(name)
                info.size = len(new)
                tar.addfile(info, io.BytesIO(new))


@pytest.fixture
def exported(archive_dir, tmp_path) -> Path:
    archive_many(archive_dir, 4)
    set_times(
        archive_dir,
        [
            "2026-10-30T10:00:00.000000Z",
            "2026-11-02T10:00:00.000000Z",
            "2026-11-03T10:00:00.000000Z",
            "2026-11-04T10:00:00.000000Z",
        ],
    )
    out = tmp_path / "export.tar.gz"
    export.export(archive_dir, export.parse_since("2026-11-01"), out)
    return out


def test_export_round_trip_verifies(exported, console):
    """An export of the drills since a date verifies with --archive."""
    assert cli.run(["verify", "--archive", str(exported)], console) == 0
    assert "3 ledger line(s), 3 journal(s)" in text(console)


def test_export_holds_the_slice_and_manifest(exported, archive_dir):
    """The tarball holds seq 2-4, their journals and a manifest chained to seq 1."""
    with tarfile.open(exported) as tar:
        names = tar.getnames()
        manifest = json.loads(member_bytes(tar, "manifest.json"))
    first = archive.entries(archive_dir)[0]
    assert (manifest["first_seq"], manifest["last_seq"]) == (2, 4)
    assert manifest["first_prev"] == first["line_sha256"]
    assert len([n for n in names if n.startswith("journals/")]) == 3
    assert set(manifest["files"]) == set(names) - {"manifest.json"}


@pytest.mark.parametrize(
    ("change", "culprit"),
    [
        (
            lambda n, d: (
                d.replace(b"cluster-b", b"cluster-c", 1) if "journals/" in n else d
            ),
            "journals/",
        ),
        (
            lambda n, d: None if n.startswith("journals/") and "223205Z" in n else d,
            "journals/",
        ),
        (
            lambda n, d: (
                b"".join(d.splitlines(keepends=True)[::-1])
                if n == "ledger.jsonl"
                else d
            ),
            "ledger.jsonl",
        ),
    ],
    ids=["journal-edited", "journal-dropped", "ledger-reordered"],
)
def test_tampered_export_fails(exported, console, change, culprit):
    """Editing, dropping or reordering inside the export makes verify exit 1."""
    rewrite(exported, change)
    assert cli.run(["verify", "--archive", str(exported)], console) == 1
    assert culprit in text(console)


def test_export_with_manifest_rewritten_still_fails_the_chain(exported):
    """Re-digesting an edited journal in the manifest still fails the ledger check."""
    edited: dict[str, bytes] = {}

    def edit(name, data):
        if name.startswith("journals/") and not edited:
            edited[name] = data.replace(b"passed", b"failed")
            return edited[name]
        return data

    rewrite(exported, edit)
    (name,) = edited

    def fix_manifest(member, data):
        if member != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["files"][name] = ledger.sha256_hex(edited[name])
        return json.dumps(manifest).encode()

    rewrite(exported, fix_manifest)
    result = export.verify_export(exported)
    assert [p.kind for p in result.problems] == ["modified"]


def test_export_of_nothing_says_so(archive_dir, tmp_path, console):
    """--since after the last drill exits 2 with a clear message."""
    archive_many(archive_dir, 1)
    argv = ["export", "--dir", str(archive_dir), "--since", "2999-01-01"]
    assert cli.run([*argv, "--out", str(tmp_path / "x.tgz")], console) == 2
    assert "no journal archived" in text(console)


def test_since_parses_dates_and_times():
    """A bare date is midnight UTC; a time without zone is UTC."""
    assert export.parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert export.parse_since("2026-11-01T12:30") == datetime(
        2026, 11, 1, 12, 30, tzinfo=UTC
    )
    with pytest.raises(archive.ArchiveError, match="yesterday"):
        export.parse_since("yesterday")
