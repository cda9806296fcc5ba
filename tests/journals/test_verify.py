"""verify: passes untouched archives, names the culprit of every tampering."""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaosext.journals import archive, cli, ledger, verify
from tests.journals import factory
from tests.journals.conftest import archive_many, text


def ledger_lines(directory: Path) -> list[bytes]:
    return (directory / ledger.LEDGER_NAME).read_bytes().splitlines(keepends=True)


def write_lines(directory: Path, lines: list[bytes]) -> None:
    (directory / ledger.LEDGER_NAME).write_bytes(b"".join(lines))


def flip_byte(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def swap_lines(directory: Path, i: int, j: int) -> None:
    lines = ledger_lines(directory)
    lines[i], lines[j] = lines[j], lines[i]
    write_lines(directory, lines)


def edit_digest(directory: Path, index: int) -> None:
    lines = ledger_lines(directory)
    entry = json.loads(lines[index])
    digest = entry["journal_sha256"]
    entry["journal_sha256"] = ("1" if digest[0] != "1" else "2") + digest[1:]
    lines[index] = ledger.encode_line(entry)
    write_lines(directory, lines)


def add_foreign(directory: Path) -> None:
    (directory / "20261122T000000Z-forged-0123456789ab.json").write_text(
        json.dumps(factory.journal(title="forged"))
    )


def kinds(result: verify.Result) -> set[str]:
    return {p.kind for p in result.problems}


def test_untouched_archive_verifies(archive_dir):
    """Three archived drills verify with no problem and report the head digest."""
    done = archive_many(archive_dir, 3)
    result = verify.verify_dir(archive_dir)
    assert result.ok
    assert result.head == done[-1].entry["line_sha256"]


def test_changed_byte_names_the_journal(archive_dir, console):
    """One byte changed in a journal: verify exits 1 naming that file as modified."""
    done = archive_many(archive_dir, 3)
    flip_byte(done[1].path, 500)
    assert cli.run(["verify", "--dir", str(archive_dir)], console) == 1
    assert f"modified {done[1].path.name}" in text(console)


def test_removed_journal_is_missing(archive_dir):
    """A removed journal is reported missing, with the ledger line naming it."""
    done = archive_many(archive_dir, 3)
    done[0].path.unlink()
    (problem,) = verify.verify_dir(archive_dir).problems
    assert (problem.kind, problem.subject) == ("missing", done[0].path.name)
    assert "seq 1" in problem.detail


def test_foreign_journal_is_unrecorded(archive_dir):
    """A journal file without a ledger line is reported as unrecorded."""
    archive_many(archive_dir, 2)
    add_foreign(archive_dir)
    (problem,) = verify.verify_dir(archive_dir).problems
    assert problem.kind == "unrecorded"
    assert "forged" in problem.subject


def test_swapped_ledger_lines_are_named(archive_dir):
    """Two swapped ledger lines break the order and the chain at those lines."""
    archive_many(archive_dir, 4)
    swap_lines(archive_dir, 1, 2)
    result = verify.verify_dir(archive_dir)
    assert kinds(result) == {"order", "chain"}
    subjects = {p.subject for p in result.problems}
    assert "ledger line 2 (seq 3)" in subjects
    assert "ledger line 3 (seq 2)" in subjects


def test_edited_ledger_digest_is_named(archive_dir):
    """An edited journal_sha256 fails the line's own digest and the journal check."""
    done = archive_many(archive_dir, 3)
    edit_digest(archive_dir, 1)
    result = verify.verify_dir(archive_dir)
    assert kinds(result) == {"edited", "modified"}
    assert any(p.subject == "ledger line 2 (seq 2)" for p in result.problems)
    assert any(p.subject == done[1].path.name for p in result.problems)


def test_rewritten_line_breaks_the_next_link(archive_dir):
    """A line edited and re-sealed still breaks the chain at the line after it."""
    archive_many(archive_dir, 3)
    lines = ledger_lines(archive_dir)
    entry = json.loads(lines[0])
    entry["verdict"] = "passed" if entry["verdict"] == "failed" else "failed"
    lines[0] = ledger.encode_line(ledger.seal(entry, entry["seq"], entry["prev"]))
    write_lines(archive_dir, lines)
    (problem,) = verify.verify_dir(archive_dir).problems
    assert (problem.kind, problem.subject) == ("chain", "ledger line 2 (seq 2)")


def test_truncation_is_caught_by_a_recorded_head(archive_dir, console):
    """Dropping the last journal and line is caught when the old head is given."""
    done = archive_many(archive_dir, 3)
    head = done[-1].entry["line_sha256"]
    done[-1].path.unlink()
    write_lines(archive_dir, ledger_lines(archive_dir)[:-1])
    assert verify.verify_dir(archive_dir).ok  # a bare chain cannot tell
    assert cli.run(["verify", "--dir", str(archive_dir), "--head", head], console) == 1
    assert "head" in text(console)


def test_missing_archive_is_a_usage_error(tmp_path, console):
    """verify on a directory that does not exist exits 2 and names it."""
    assert cli.run(["verify", "--dir", str(tmp_path / "none")], console) == 2
    assert "none" in text(console)


TAMPERINGS = st.one_of(
    st.just(("none",)),
    st.tuples(st.just("flip-journal"), st.integers(0, 99), st.integers(0, 10**6)),
    st.tuples(st.just("flip-ledger"), st.integers(0, 10**7)),
    st.tuples(st.just("remove-journal"), st.integers(0, 99)),
    st.tuples(st.just("remove-line"), st.integers(0, 99)),
    st.tuples(
        st.just("foreign"),
    ),
    st.tuples(st.just("swap-lines"), st.integers(0, 99), st.integers(1, 99)),
    st.tuples(st.just("edit-digest"), st.integers(0, 99)),
)
VERDICTS = st.lists(st.sampled_from(["passed", "failed", None]), min_size=1, max_size=5)


def tamper(directory: Path, how: tuple) -> None:
    journals = sorted(directory.glob("*.json"))
    count = len(journals)
    kind = how[0]
    if kind == "flip-journal":
        flip_byte(journals[how[1] % count], how[2])
    elif kind == "flip-ledger":
        flip_byte(directory / ledger.LEDGER_NAME, how[1])
    elif kind == "remove-journal":
        journals[how[1] % count].unlink()
    elif kind == "remove-line":
        lines = ledger_lines(directory)
        del lines[how[1] % count]
        write_lines(directory, lines)
    elif kind == "foreign":
        add_foreign(directory)
    elif kind == "swap-lines":
        i = how[1] % count
        j = (i + how[2]) % count
        if i == j:  # one journal: nothing to swap with, so tamper differently
            flip_byte(journals[0], how[2])
        else:
            swap_lines(directory, i, j)
    elif kind == "edit-digest":
        edit_digest(directory, how[1] % count)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(verdicts=VERDICTS, how=TAMPERINGS)
def test_ledger_verifies_iff_untouched(verdicts, how):
    """Over random archives and one random tampering: verify passes iff untouched."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "journals"
        for i, verdict in enumerate(verdicts):
            archive.archive_journal(
                factory.journal(title=f"drill {i}", verdict=verdict),
                directory=directory,
                environ={},
                argv=[],
            )
        tamper(directory, how)
        result = verify.verify_dir(directory)
        assert result.ok is (how[0] == "none"), result.problems


@pytest.mark.parametrize("garbage", [b"not json\n", b"{}\n", b"\n"])
def test_malformed_ledger_line_is_named(archive_dir, garbage):
    """A line that is not a ledger entry is reported with its line number."""
    archive_many(archive_dir, 2)
    lines = ledger_lines(archive_dir)
    write_lines(archive_dir, [lines[0], garbage, lines[1]])
    result = verify.verify_dir(archive_dir)
    assert any(p.subject.startswith("ledger line 2") for p in result.problems)
    assert not result.ok
