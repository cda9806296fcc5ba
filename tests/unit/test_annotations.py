"""Restore records: written before a change, read back exactly, never ignored."""

import pytest

from chaosext import annotations


def test_a_record_round_trips_through_its_annotation():
    """What dumps() writes, read_record() reads back."""
    record = annotations.RestoreRecord("run-1", "scale_to_zero", {"replicas": 3})
    back = annotations.read_record({annotations.RESTORE_KEY: record.dumps()})
    assert back == record


def test_no_annotation_means_no_record():
    """An object meshdrill never touched has no record."""
    assert annotations.read_record({"other": "x"}) is None
    assert annotations.read_record(None) is None


def test_a_malformed_record_is_an_error_not_silence():
    """A record that cannot be read must stop the action, naming the annotation."""
    with pytest.raises(ValueError, match=annotations.RESTORE_KEY):
        annotations.read_record({annotations.RESTORE_KEY: "{not json"})


def test_another_runs_record_holds_the_object():
    """A second drill refuses an object that another drill holds, naming it."""
    record = annotations.RestoreRecord("run-1", "scale_to_zero", {"replicas": 3})
    with pytest.raises(annotations.Held, match="run run-1"):
        annotations.check_not_held("deployment default/web", record, "run-2")
    annotations.check_not_held("deployment default/web", record, "run-1")
