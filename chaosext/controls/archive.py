"""Chaos Toolkit control: archive every run's journal with a ledger line.

Declare it last in the experiment's `controls`, after the verdict and restore
controls, so the archived journal carries their record:

    {"name": "meshdrill-archive",
     "provider": {"type": "python", "module": "chaosext.controls.archive"}}

The archive directory is configuration `journals_dir`, else
$MESHDRILL_JOURNALS_DIR, else ./journals. Secrets are redacted before anything is
written. The control never changes the run's own journal and never fails the run:
chaoslib swallows control errors, so failures are logged as errors naming the
directory, and `chaos run` still writes its ./journal.json.
"""

import logging
from typing import Any

from chaoslib.types import Configuration, Journal, Secrets

from chaosext.journals import archive

__all__ = ["after_experiment_control"]

logger = logging.getLogger("chaostoolkit")


def after_experiment_control(
    context: Any,
    state: Journal,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
    **kwargs: Any,
) -> archive.Archived | None:
    """Archive the finished run's journal (redacted) and chain its ledger line.

    Returns what was archived, or None (the error logged) when it could not be.
    """
    directory = archive.resolve_dir(None, configuration)
    try:
        done = archive.archive_journal(
            state, configuration, secrets, directory=directory
        )
    except archive.ArchiveError as exc:
        logger.error(
            "meshdrill archive: the journal was NOT archived: %s "
            "(chaos run still writes its own journal file)",
            exc,
        )
        return None
    except Exception as exc:
        logger.error(
            "meshdrill archive: the journal was NOT archived in %s: %s: %s "
            "(chaos run still writes its own journal file)",
            directory,
            type(exc).__name__,
            exc,
        )
        return None
    logger.info(
        "meshdrill archive: journal archived as %s (ledger seq %d)",
        done.path,
        done.entry["seq"],
    )
    return done
