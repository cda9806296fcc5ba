"""The lab's ground truth (`routing.jsonl`) is capped as its request record is:
a lab left running keeps at most two parts, and readers get both, oldest first;
a lab started anew starts the record anew, both parts."""

from pathlib import Path

from chaosext.lab import cappedlog, groundtruth


def test_a_new_start_empties_both_parts(tmp_path: Path) -> None:
    log = cappedlog.CappedLog(tmp_path / groundtruth.FILE, max_bytes=200)
    for i in range(40):
        log.write({"type": "pod", "n": i})
    assert cappedlog.rotated(tmp_path / groundtruth.FILE).exists()
    log.start_anew()
    log.write({"type": "route", "n": 0})
    log.close()
    assert groundtruth.read(tmp_path) == [{"type": "route", "n": 0}]
    assert not cappedlog.rotated(tmp_path / groundtruth.FILE).exists()


def test_the_ground_truth_reads_the_rotated_part_first(tmp_path: Path) -> None:
    log = cappedlog.CappedLog(tmp_path / groundtruth.FILE, max_bytes=200)
    log.start_anew()
    for i in range(40):
        log.write({"type": "pod", "n": i})
    log.close()
    kept = [r["n"] for r in groundtruth.read(tmp_path)]
    assert all(p.stat().st_size <= 200 for p in tmp_path.iterdir())
    assert kept == list(range(40 - len(kept), 40))
    assert len(kept) > 4  # more than the current part alone holds
    assert len(kept) > len((tmp_path / groundtruth.FILE).read_text().splitlines())
