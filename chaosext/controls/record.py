"""Control piece: name the run's target, and put the run on record before it acts.

`announce` works out the target (the embedded lab and its topology, or the
kubeconfig with the contexts the run names and their API servers), logs it as
the run's first meshdrill line and keeps it in the run's context (the journal
and the summary carry it). `before_experiment_control` then writes the ledger
line that marks the run started (who, what, target, run id) before its first
change, so a run killed with `kill -9` still shows in `meshdrill journals list`
(as unfinished). Dry runs change nothing and write no start line. A start line
that cannot be written refuses the run: an unrecorded drill must not touch a
cluster.
"""

import logging
from typing import Any

from chaoslib.types import Configuration, Experiment, Secrets

from chaosext import runcontext
from chaosext.controls import guard
from chaosext.controls import target as target_piece
from chaosext.controls.refusal import refuse
from chaosext.journals import archive, records

__all__ = ["announce", "before_experiment_control"]

logger = logging.getLogger("chaostoolkit")


def announce(
    experiment: Experiment, configuration: Configuration, secrets: Secrets
) -> None:
    """Work out and log the run's target (kept in the run's context)."""
    if configuration is None:
        return
    run = runcontext.ensure(configuration)
    contexts: set[str] = set()
    try:
        contexts = {
            value
            for _where, key, value in guard.referenced(
                experiment, configuration, secrets
            )
            if key in guard.CONTEXT_KEYS
        }
    except Exception as exc:  # bad arguments: the inputs check names them
        logger.debug("contexts of the target not known: %s", exc)
    run.target = target_piece.describe(run, configuration, secrets, contexts)
    logger.info("meshdrill target: %s", target_piece.line(run.target))


def before_experiment_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    """Write the ledger line that marks this run started (not for dry runs)."""
    run = runcontext.of(configuration)
    if run is None or run.dry_run:
        return
    directory = archive.resolve_dir(None, configuration)
    try:
        done = records.started(
            context,
            configuration,
            secrets,
            run_id=run.run_id,
            target=run.target,
            directory=directory,
        )
    except (archive.ArchiveError, OSError, ValueError) as exc:
        refuse(
            configuration,
            f"the run could not be put on record in {directory}: {exc};"
            " nothing was done",
        )
    run.started_seq = int(done.entry["seq"])
    logger.info(
        "meshdrill run %s on record as started (ledger seq %d in %s)",
        run.run_id,
        run.started_seq,
        directory,
    )
