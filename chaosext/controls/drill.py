"""The one control a meshdrill experiment declares: every guarantee, in order.

```json
"controls": [{"name": "meshdrill", "provider": {"type": "python",
              "module": "chaosext.controls.drill"}}]
```
It composes the single-purpose controls in the only safe order:
1. lab: the embedded lab starts before anything else and stops after everything;
2. guard: a drill naming contexts or namespaces it may not touch never starts;
3. restore: the run gets an id; whatever ends it, what it changed is put back;
4. safeguards (optional `safeguards` argument): the method is cut short when
   client errors exceed a budget or a named probe misses;
5. dry runs (`chaos run --dry=actions`): each meshdrill action reports what it
   would change, and changes nothing;
6. verdict: the method stops at the first miss, and the run fails unless every
   phase passed, naming the phase and the numbers;
7. archive: the journal, verdict included, goes to the tamper-evident archive.
"""

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

from chaosext.annotations import DRY_RUN_KEY, METHOD_STARTED_KEY
from chaosext.controls import (
    archive,
    dryrun,
    guard,
    lab,
    refusal,
    restore,
    safeguard,
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
    lab.configure_control(configuration=configuration)


def before_experiment_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    lab.before_experiment_control(context, configuration=configuration)
    guard.before_experiment_control(
        context, configuration=configuration, secrets=secrets
    )
    restore.before_experiment_control(context, configuration=configuration)
    dryrun.before_experiment_control(context, configuration=configuration)


def before_method_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    safeguards: dict[str, Any] | None = None,
) -> None:
    if configuration is not None:  # the steady state after this is "after"
        configuration[METHOD_STARTED_KEY] = True
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
    with restore.signals_held():  # a second Ctrl-C must not skip the restore
        _after_experiment(context, state, configuration, secrets, experiment, settings)


def _after_experiment(
    context: Experiment,
    state: Journal,
    configuration: Configuration,
    secrets: Secrets,
    experiment: Experiment,
    settings: Settings,
) -> None:
    safeguard.stop(configuration)
    if isinstance(state, dict):
        notes = state.setdefault("meshdrill", {})
        for key, value in (
            ("refused", refusal.refused(configuration)),
            ("safeguard", safeguard.tripped(configuration)),
            ("dry_run", (configuration or {}).get(DRY_RUN_KEY)),
        ):
            if value:
                notes[key] = value
    hooks: dict[str, Any] = {
        "state": state,
        "configuration": configuration,
        "secrets": secrets,
        "experiment": experiment,
        "settings": settings,
    }
    try:
        restore.after_experiment_control(context, **hooks)
        verdict.after_experiment_control(context, **hooks)
        archive.after_experiment_control(context, **hooks)
    finally:
        lab.after_experiment_control(context, **hooks)
