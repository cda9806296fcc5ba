"""The one control a meshdrill experiment declares: lab, restore, verdict, archive.

```json
"controls": [{"name": "meshdrill", "provider": {"type": "python",
              "module": "chaosext.controls.drill"}}]
```
It composes the single-purpose controls in the only safe order: the lab starts
before anything else and stops after everything else; the blast-radius guard
refuses a drill that names contexts or namespaces it may not touch; the restore
runs before the verdict (which reports what had to be restored); the archive
runs last, so the archived journal holds the verdict.
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

from chaosext.controls import archive, guard, lab, refusal, restore, verdict

__all__ = [
    "after_activity_control",
    "after_experiment_control",
    "before_experiment_control",
    "configure_control",
]


# chaoslib passes `configuration`, `secrets`, `state`, `experiment` and `settings`
# only to parameters that name them, so every hook names all it forwards.


def configure_control(
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    settings: Settings = None,
) -> None:
    lab.configure_control(
        configuration=configuration,
        secrets=secrets,
        experiment=experiment,
        settings=settings,
    )


def before_experiment_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
) -> None:
    hooks: dict[str, Any] = {
        "configuration": configuration,
        "secrets": secrets,
        "experiment": experiment,
    }
    lab.before_experiment_control(context, **hooks)
    guard.before_experiment_control(context, **hooks)
    restore.before_experiment_control(context, **hooks)


def after_activity_control(
    context: Activity,
    state: Run = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
) -> None:
    verdict.after_activity_control(
        context,
        state=state,
        configuration=configuration,
        secrets=secrets,
        experiment=experiment,
    )


def after_experiment_control(
    context: Experiment,
    state: Journal = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
    settings: Settings = None,
) -> None:
    hooks: dict[str, Any] = {
        "state": state,
        "configuration": configuration,
        "secrets": secrets,
        "experiment": experiment,
        "settings": settings,
    }
    if isinstance(state, dict) and refusal.refused(configuration):
        state.setdefault("meshdrill", {})["refused"] = refusal.refused(configuration)
    try:
        restore.after_experiment_control(context, **hooks)
        verdict.after_experiment_control(context, **hooks)
        archive.after_experiment_control(context, **hooks)
    finally:
        lab.after_experiment_control(context, **hooks)
