"""requests.jsonl is capped: past the cap the file moves to requests.jsonl.1, and
`read_requests` still reads every kept request, oldest first."""

from pathlib import Path

from chaosext.lab import authz


def write(log: authz.RequestLog, count: int) -> None:
    for i in range(count):
        log.write(
            "c1", authz.Attributes("get", "", "pods", namespace="ns", name=f"p{i}")
        )


def test_the_record_never_grows_past_its_cap(tmp_path: Path) -> None:
    """Each file stays within the cap; at most two files exist."""
    log = authz.RequestLog(tmp_path / authz.AUDIT_FILE, max_bytes=400)
    write(log, 50)
    log.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["requests.jsonl", "requests.jsonl.1"]
    assert all(p.stat().st_size <= 400 for p in tmp_path.iterdir())


def test_read_requests_reads_the_rotated_part_first(tmp_path: Path) -> None:
    """The newest requests, in order, ending with the last one written."""
    log = authz.RequestLog(tmp_path / authz.AUDIT_FILE, max_bytes=400)
    write(log, 50)
    log.close()
    names = [r["name"] for r in authz.read_requests(tmp_path)]
    assert names[-1] == "p49"
    assert names == [f"p{i}" for i in range(50 - len(names), 50)]
    assert len(names) > 4


def test_a_reopened_record_counts_what_is_already_there(tmp_path: Path) -> None:
    """A lab restarted in the same state dir keeps honouring the cap."""
    for _ in range(3):
        log = authz.RequestLog(tmp_path / authz.AUDIT_FILE, max_bytes=400)
        write(log, 7)
        log.close()
    assert all(p.stat().st_size <= 400 for p in tmp_path.iterdir())
