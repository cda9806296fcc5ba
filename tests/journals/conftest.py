"""Fixtures for the journal archive tests: an archive dir and a captured console."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from chaosext.journals import archive
from tests.journals import factory

ARGV = ["/usr/bin/chaos", "run", "--var-file", "prod.yaml", "region_outage.json"]


def archive_many(directory: Path, count: int, **kwargs) -> list[archive.Archived]:
    """Archive `count` synthetic journals, one minute apart, as a drill would."""
    return [
        archive.archive_journal(
            factory.journal(start=factory.BASE + timedelta(minutes=i), **kwargs),
            directory=directory,
            environ={},
            argv=ARGV,
        )
        for i in range(count)
    ]


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "journals"


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=120, color_system=None, soft_wrap=True)


def text(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()
