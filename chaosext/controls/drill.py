"""The one control a meshdrill experiment declares: every guarantee, in order.

```json
"controls": [{"name": "meshdrill", "provider": {"type": "python",
              "module": "chaosext.controls.drill"}}]
```
It composes the single-purpose controls in the only safe order:
1. lab: the embedded lab starts before anything else and stops after everything
   (a private lab's folder is removed);
2. inputs: var files, `--var` keys and every activity's arguments are checked
   before anything changes; a bad one refuses the run, naming it;
3. guard: a drill naming contexts or namespaces it may not touch never starts;
4. record: the target is named, and a ledger line marks the run started
   before its first change;
5. restore: the run gets an id; whatever ends it, what it changed is put back;
6. safeguards (optional `safeguards` argument): the method is cut short when
   client errors exceed a budget or a named probe misses;
7. dry runs (`chaos run --dry=actions`): each meshdrill action reports what it
   would change, and changes nothing;
8. verdict: the method stops at the first miss, and the run fails unless every
   phase passed, naming the phase and the numbers;
9. archive: the journal, verdict included, goes to the tamper-evident archive;
10. summary: a table (plain lines off a terminal) ends the output.
Restore, verdict, archive and summary each run whatever the others raise; a
failure of one is recorded in the journal and the summary, never swallowed.
Run state travels in one typed object (`chaosext.runcontext.RunContext`).
"""

import logging
import sys
from collections.abc import Callable
from typing import Any

from chaoslib.types import (
    Activity,
    Configuration,
    Experiment,
    Journal,
    Run,
    Secrets,
    Settings,
)

from chaosext import runcontext
from chaosext.controls import (
    archive,
    dryrun,
    guard,
    inputs,
    lab,
    record,
    restore,
    safeguard,
    signals,
    summary,
    verdict,
)

__all__ = [
    "after_activity_control",
    "after_experiment_control",
    "after_method_control",
    "before_experiment_control",
    "before_method_control",
    "configure_control",
]

logger = logging.getLogger("chaostoolkit")

# chaoslib passes `configuration`, `secrets`, `state`, `experiment` and `settings`
# only to parameters that name them, and the control's own `arguments` to every
# hook, so each hook names what it forwards and accepts `safeguards`.


def configure_control(
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    settings: Settings = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    if configuration is None:
        return
    context = runcontext.ensure(configuration)
    context.run_id = restore.new_run_id()
    signals.watch(context)
    lab.configure_control(configuration=configuration)
    if experiment is not None:
        record.announce(experiment, configuration, secrets)


def before_experiment_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    lab.before_experiment_control(context, configuration=configuration)
    run = runcontext.of(configuration)
    if run is not None and not run.target:
        record.announce(context, configuration, secrets)
    inputs.before_experiment_control(
        context, configuration=configuration, secrets=secrets, safeguards=safeguards
    )
    guard.before_experiment_control(
        context, configuration=configuration, secrets=secrets
    )
    restore.before_experiment_control(context, configuration=configuration)
    dryrun.before_experiment_control(context, configuration=configuration)
    record.before_experiment_control(
        context, configuration=configuration, secrets=secrets
    )


def before_method_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    if configuration is not None:  # the steady state after this is "after"
        runcontext.ensure(configuration).method_started = True
    if not dryrun.is_dry(context):
        safeguard.start(safeguards, configuration, secrets)


def after_method_control(
    context: Experiment,
    configuration: Configuration = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    safeguard.stop(configuration)


def after_activity_control(
    context: Activity,
    state: Run = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    dryrun.after_activity_control(
        context,
        state=state,
        configuration=configuration,
        secrets=secrets,
        experiment=experiment,
    )
    verdict.after_activity_control(context, state=state, experiment=experiment)


def after_experiment_control(
    context: Experiment,
    state: Journal = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    settings: Settings = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    try:
        with restore.signals_held():  # a second Ctrl-C must not skip the restore
            _after_experiment(
                context, state, configuration, secrets, experiment, settings
            )
    finally:
        run = runcontext.of(configuration)
        if run is not None:  # chaoslib calls cleanup_control without arguments
            signals.release(run)


def _after_experiment(
    context: Experiment,
    state: Journal,
    configuration: Configuration,
    secrets: Secrets,
    experiment: Experiment,
    settings: Settings,
) -> None:
    configuration = configuration if configuration is not None else {}
    run = runcontext.ensure(configuration)
    journal: dict[str, Any] = state if isinstance(state, dict) else {}
    notes = journal.setdefault("meshdrill", {})
    hooks: dict[str, Any] = {
        "state": state,
        "configuration": configuration,
        "secrets": secrets,
        "experiment": experiment,
        "settings": settings,
    }

    def step(name: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # recorded, and the next step still runs
            problem = f"{name}: {type(exc).__name__}: {exc}"
            logger.error("meshdrill %s", problem)
            run.problems.append(problem)
            return None

    archived = None
    try:
        step("safeguard", lambda: safeguard.stop(configuration))
        for key, value in (
            ("run_id", run.run_id),
            ("refused", run.refused),
            ("interrupted", run.interrupted),
            ("safeguard", run.safeguard),
            ("dry_run", run.dry_run),
            ("target", run.target),
        ):
            if value:
                notes[key] = value
        step("restore", lambda: restore.after_experiment_control(context, **hooks))
        step("verdict", lambda: verdict.after_experiment_control(context, **hooks))
        if not notes.get("contexts") and run.target.get("servers"):
            notes["contexts"] = dict(run.target["servers"])
        _settle_status(journal, notes, run)
        archived = step(
            "archive", lambda: archive.after_experiment_control(context, **hooks)
        )
    finally:
        step("lab", lambda: lab.after_experiment_control(context, **hooks))
        if run.problems:
            notes["problems"] = list(run.problems)
        if archived is not None:
            notes["archived"] = str(archived.path)
        step("summary", lambda: _summary(notes))


def _settle_status(
    journal: dict[str, Any], notes: dict[str, Any], run: runcontext.RunContext
) -> None:
    """One status per run, the same on the terminal, in the journal and ledger.

    refused (nothing was done), interrupted (a signal ended it, wherever it
    landed), dry-run (nothing was changed), else the verdict: passed or failed.
    `chaos run` exits non-zero for every status but `completed`, so a dry run
    keeps `completed` in chaoslib's field and says `dry-run` in meshdrill's.
    """
    if run.refused:
        status = "refused"
        journal["status"] = "refused"
    elif run.interrupted:
        status = "interrupted"
        journal["status"] = "interrupted"
        reasons = notes.setdefault("reasons", [])
        why = f"run: interrupted by {run.interrupted}"
        if why not in reasons:
            reasons.insert(0, why)
        notes["phase"] = "run"
    elif notes.get("verdict") == "dry-run":
        status = "dry-run"
    else:
        status = str(notes.get("verdict") or "failed")
    if run.problems and status in ("passed", "dry-run"):
        status = "failed"
    if run.problems:
        notes.setdefault("reasons", []).extend(run.problems)
        notes["phase"] = notes.get("phase") or run.problems[0].split(":", 1)[0]
    if status == "failed" and journal.get("status") == "completed":
        journal["status"] = "failed"
    notes["verdict"] = status
    notes["status"] = status
    reasons = notes.get("reasons") or []
    if status == "passed":
        logger.info(
            "meshdrill verdict: passed (%d phases)", len(notes.get("phases") or [])
        )
    elif status == "dry-run":
        logger.info("meshdrill verdict: dry-run (nothing was changed)")
    else:
        logger.error(
            "meshdrill verdict: %s: %s", status.upper(), "; ".join(reasons) or "-"
        )


def _summary(notes: dict[str, Any]) -> None:
    options = inputs.chaos_options()
    journal_path = options.get("journal_path")
    stream = sys.stderr
    summary.render(notes, str(journal_path) if journal_path else None, stream)
