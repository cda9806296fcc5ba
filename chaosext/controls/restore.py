"""Control: whatever ends the run, put back everything it changed.

Chaos Toolkit's default rollback strategy skips rollbacks when a run fails or is
interrupted (Ctrl-C, SIGTERM, a safeguard), and a second Ctrl-C cuts rollbacks
short. This control gives each run an id (actions stamp it into their restore
records), and when the run ends, however it ends, finds every object that still
carries a record of this run, in every context and namespace the run names, and
undoes it. Ctrl-C and SIGTERM are held off while it restores; if the process is
killed outright, `meshdrill recover` finds the same records.
"""

import contextlib
import logging
import signal
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaosext import clusters, runcontext, undo
from chaosext.controls.refusal import refused

__all__ = ["after_experiment_control", "before_experiment_control", "signals_held"]

logger = logging.getLogger("chaostoolkit")


def before_experiment_control(
    context: Experiment, configuration: Configuration = None, **_: Any
) -> None:
    """Give this run its id, which actions write into their restore records."""
    if configuration is None:
        return
    context = runcontext.ensure(configuration)
    if context.run_id == runcontext.UNMANAGED_RUN:
        context.run_id = new_run_id()
        logger.info("meshdrill run id: %s", context.run_id)


def new_run_id() -> str:
    """A run id: its UTC start and a random suffix."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def after_experiment_control(
    context: Experiment,
    state: Journal = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    """Undo whatever this run left changed; record it in the journal."""
    configuration = configuration or {}
    context = runcontext.of(configuration)
    run_id = context.run_id if context is not None else None
    if not run_id or run_id == runcontext.UNMANAGED_RUN or refused(configuration):
        return  # refused before anything was done
    summary: dict[str, Any] = {"restored": [], "failed": [], "contexts": {}}
    with signals_held():
        known = _kubeconfig_contexts(configuration, secrets)
        for context_name in sorted(_contexts(configuration, state)):
            if known is not None and context_name not in known:
                # Actions connect only to contexts of this kubeconfig: nothing of
                # this run can be there (the run failed naming it, if it used it).
                logger.info(
                    "context '%s' is not in the kubeconfig: skipped", context_name
                )
                continue
            _restore_context(
                context_name, run_id, configuration, secrets, state, summary
            )
    if isinstance(state, dict):
        state.setdefault("meshdrill", {}).update(
            run_id=run_id, restore=summary, contexts=summary["contexts"]
        )


def _restore_context(
    name: str,
    run_id: str,
    configuration: Mapping[str, Any],
    secrets: Secrets,
    journal: Journal,
    summary: dict[str, Any],
) -> None:
    try:
        with clusters.connect(name, configuration, secrets) as cluster:
            summary["contexts"][name] = cluster.server
            namespaces = _namespaces(configuration, journal)
            malformed: list[str] = []
            for change in undo.find_changes(cluster, namespaces, run_id, malformed):
                try:
                    undo.undo(cluster, change)
                except clusters.ClusterError as exc:
                    logger.error("could not restore %s: %s", change.describe(), exc)
                    summary["failed"].append({**change.to_json(), "error": str(exc)})
                    continue
                logger.warning("restored what the run left: %s", change.describe())
                summary["restored"].append(change.to_json())
            for problem in malformed:  # not a record this run wrote: leave it be
                logger.warning("left alone: %s", problem)
    except (clusters.ClusterError, ValueError) as exc:
        logger.error(
            "could not check context '%s' for changes to restore: %s;"
            " run `meshdrill recover --kubeconfig %s --context %s`",
            name,
            exc,
            configuration.get("kubeconfig") or "$KUBECONFIG",
            name,
        )
        summary["failed"].append({"context": name, "error": str(exc)})


def _kubeconfig_contexts(
    configuration: Mapping[str, Any], secrets: Secrets
) -> set[str] | None:
    """The contexts the run's kubeconfig declares; None when it cannot be read."""
    try:
        return set(
            clusters.contexts_in(clusters.kubeconfig_path(configuration, secrets))
        )
    except clusters.ClusterError:
        return None


def _contexts(configuration: Mapping[str, Any], journal: Journal) -> set[str]:
    """Contexts the configuration names (`*_context`, `contexts`) or outputs touched."""
    found: set[str] = set()
    for key, value in configuration.items():
        if key.endswith("_context") and isinstance(value, str) and value:
            found.add(value)
        elif key == "contexts" and isinstance(value, list):
            found.update(str(v) for v in value)
    found.update(_output_values(journal, "context"))
    return found


def _namespaces(configuration: Mapping[str, Any], journal: Journal) -> set[str]:
    found = {
        str(v)
        for k, v in configuration.items()
        if (k == "namespace" or k.endswith("_namespace")) and isinstance(v, str) and v
    }
    found.update(_output_values(journal, "namespace"))
    return found or {"default"}


def _output_values(journal: Journal, key: str) -> set[str]:
    values: set[str] = set()
    runs = list((journal or {}).get("run") or []) + list(
        (journal or {}).get("rollbacks") or []
    )
    for run in runs:
        output = run.get("output") if isinstance(run, dict) else None
        value = output.get(key) if isinstance(output, dict) else None
        if isinstance(value, str) and value:
            values.add(value)
    return values


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold off SIGINT/SIGTERM while restoring; say so if one arrives.

    The drill control holds them from the moment the run ends (nesting is fine),
    so that a second Ctrl-C can cut short neither the restore nor the journal.
    """

    def held(signum: int, _frame: Any) -> None:
        logger.warning(
            "signal %s received while the drill restores and records its verdict:"
            " that goes on (kill -9, then `meshdrill recover`, if you must stop it)",
            signal.Signals(signum).name,
        )

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not in the main thread
            previous[sig] = signal.signal(sig, held)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
