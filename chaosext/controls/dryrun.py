"""Control: with `chaos run --dry=actions`, show what each action would change.

Chaos Toolkit's dry mode skips an action entirely, so it cannot say what it would
have done. For meshdrill's own actions this control then calls the action with
a dry copy of the run's context (`RunContext.dry`): the action reads the
objects, works out its changes, and returns them without writing anything. The
plan becomes the activity's output in the journal and is logged.
"""

import importlib
import logging
from typing import Any

from chaoslib import substitute
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Activity, Configuration, Dry, Experiment, Run, Secrets

from chaosext import runcontext

__all__ = ["after_activity_control", "before_experiment_control", "is_dry"]

logger = logging.getLogger("chaostoolkit")

ACTION_PACKAGE = "chaosext.actions."


def is_dry(experiment: Experiment | None, activity_type: str = "action") -> bool:
    dry = (experiment or {}).get("dry")
    if dry == Dry.ACTIVITIES:
        return True
    return (dry == Dry.ACTIONS and activity_type == "action") or (
        dry == Dry.PROBES and activity_type == "probe"
    )


def before_experiment_control(
    context: Experiment, configuration: Configuration = None
) -> None:
    """Tell probes the run is dry: waiting probes then have nothing to wait for."""
    dry = (context or {}).get("dry")
    if dry is not None and configuration is not None:
        runcontext.ensure(configuration).dry_run = getattr(dry, "value", str(dry))


def after_activity_control(
    context: Activity,
    state: Run = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
) -> None:
    """Fill a skipped meshdrill action's output with what it would have changed."""
    provider = context.get("provider") or {}
    if (
        not isinstance(state, dict)
        or context.get("type") != "action"
        or not is_dry(experiment, "action")
        or provider.get("type") != "python"
        or not str(provider.get("module", "")).startswith(ACTION_PACKAGE)
    ):
        return
    run = runcontext.of(configuration) or runcontext.RunContext()
    dry_configuration = {**(configuration or {}), runcontext.KEY: run.dry()}
    arguments = substitute(
        provider.get("arguments") or {}, dry_configuration, secrets or {}
    )
    func = getattr(importlib.import_module(provider["module"]), provider["func"])
    try:
        plan: Any = func(
            **arguments, configuration=dry_configuration, secrets=secrets or {}
        )
    except ActivityFailed as exc:
        plan = {"dry_run": True, "error": str(exc)}
    state["output"] = plan
    logger.info("dry run: action '%s' would: %s", context.get("name"), plan)
