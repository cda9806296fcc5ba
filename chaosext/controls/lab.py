"""Control: run the drill against the embedded lab when the configuration says so.

With configuration `kubeconfig: lab` (the experiments' default), the control
makes sure a lab with the experiment's `lab_topology` runs, and points the
configuration's `kubeconfig` at the lab's kubeconfig before any activity runs:
- a lab with that topology already runs (`meshdrill lab up --detach`): use it;
- no lab runs: start one for this run, and stop it when the run ends;
- a lab with another topology runs: start a private one in a folder of its own
  (`runtime.make_private_dir`), leaving the user's lab alone; stop it and remove
  the folder, secrets and all, when the run ends (`meshdrill recover` and
  `meshdrill lab down --all` remove the private lab of a drill that was killed).
The lab's state lives in the run's context (`chaosext.runcontext`).
Any other `kubeconfig` value (a path, or empty for $KUBECONFIG) leaves the lab
out of it entirely.
"""

import logging
import os
import threading
from pathlib import Path
from typing import Any

from chaoslib.types import Configuration

from chaosext import clusters, runcontext
from chaosext.clusters import LAB
from chaosext.controls.refusal import refuse
from chaosext.lab import runtime

__all__ = ["after_experiment_control", "before_experiment_control", "configure_control"]

logger = logging.getLogger("chaostoolkit")

DEFAULT_TOPOLOGY = "guide-000"


def configure_control(configuration: Configuration = None, **_: Any) -> None:
    """Start or find the lab, and point `kubeconfig` at it."""
    if configuration is None or configuration.get("kubeconfig", LAB) != LAB:
        return
    topology = _topology(configuration.get("lab_topology") or DEFAULT_TOPOLOGY)
    context = runcontext.ensure(configuration)
    state = context.lab = runcontext.LabState(topology=topology)
    try:
        state_dir = runtime.default_state_dir()
        info = runtime.running_lab(state_dir)
        if info is not None and _topology(info.topology) != topology:
            logger.info(
                "a lab with topology %s runs in %s; starting a private lab with %s",
                info.topology,
                state_dir,
                topology,
            )
            state_dir = runtime.make_private_dir(os.getpid(), context.run_id)
            state.private = True
            state.state_dir = str(state_dir)  # removed at the end, even if unused
            info = None
        if info is None:
            logger.info(
                "starting the embedded mesh lab (%s) in %s", topology, state_dir
            )
            info = _start_lab(topology, state_dir)
            state.owned = True
            runtime.claim(state_dir, os.getpid(), context.run_id)
        else:
            logger.info("using the running mesh lab (%s) in %s", topology, state_dir)
    except Exception as exc:  # reported by before_experiment_control
        state.error = f"the embedded lab could not start: {exc}"
        logger.error("%s", state.error)
        return
    state.state_dir = str(state_dir)
    state.contexts = dict(info.clusters)
    configuration["kubeconfig"] = str(info.kubeconfig)


def before_experiment_control(
    context: Any, configuration: Configuration = None, **_: Any
) -> None:
    """Stop the run before anything is touched if the lab failed to start."""
    context = runcontext.of(configuration)
    if context is not None and context.lab is not None and context.lab.error:
        refuse(configuration, context.lab.error)


def after_experiment_control(
    context: Any, state: Any = None, configuration: Configuration = None, **_: Any
) -> None:
    """Stop the lab this run started (a lab the user started keeps running)."""
    context = runcontext.of(configuration)
    lab = context.lab if context is not None else None
    if lab is None or not lab.state_dir:
        return
    if lab.private:
        logger.info("stopping and removing the private lab in %s", lab.state_dir)
        runtime.remove_private(Path(lab.state_dir))
    elif lab.owned:
        logger.info("stopping the embedded mesh lab started for this run")
        runtime.stop_lab(Path(lab.state_dir))
        runtime.release(Path(lab.state_dir))


def _start_lab(topology: str, state_dir: Path) -> runtime.LabInfo:
    """Start the lab; while its process comes up, import what the drill's first
    API calls need (`clusters.preload`) instead of idling. The import is over
    before this returns: no import runs beside the drill's own."""
    warming = threading.Thread(
        target=clusters.preload, name="meshdrill-preload", daemon=True
    )
    warming.start()
    try:
        return runtime.start_lab(topology, state_dir)
    finally:
        warming.join()


def on_lab(configuration: Configuration) -> bool:
    """True when this run targets the embedded lab (and the lab runs)."""
    context = runcontext.of(configuration)
    return bool(
        context and context.lab and context.lab.state_dir and not context.lab.error
    )


def _topology(value: str) -> str:
    """A shipped topology name as is; a path made absolute so labs compare."""
    text = str(value)
    if "/" in text or text.endswith((".yaml", ".yml")):
        return str(Path(text).expanduser().resolve())
    return text
