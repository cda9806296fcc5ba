"""Control: run the drill against the embedded lab when the configuration says so.

With configuration `kubeconfig: lab` (the experiments' default), the control
makes sure a lab with the experiment's `lab_topology` runs, and points the
configuration's `kubeconfig` at the lab's kubeconfig before any activity runs:
- a lab with that topology already runs (`meshdrill lab up --detach`): use it;
- no lab runs: start one for this run, and stop it when the run ends;
- a lab with another topology runs: start a private one in a temporary folder,
  leaving the user's lab alone, and stop it when the run ends.
Any other `kubeconfig` value (a path, or empty for $KUBECONFIG) leaves the lab
out of it entirely.
"""

import logging
import tempfile
from pathlib import Path
from typing import Any

from chaoslib.types import Configuration

from chaosext.clusters import LAB
from chaosext.controls.refusal import refuse
from chaosext.lab import runtime

__all__ = ["after_experiment_control", "before_experiment_control", "configure_control"]

logger = logging.getLogger("chaostoolkit")

STATE_KEY = "meshdrill_lab"
DEFAULT_TOPOLOGY = "guide-000"


def configure_control(configuration: Configuration = None, **_: Any) -> None:
    """Start or find the lab, and point `kubeconfig` at it."""
    if configuration is None or configuration.get("kubeconfig", LAB) != LAB:
        return
    topology = _topology(configuration.get("lab_topology") or DEFAULT_TOPOLOGY)
    state: dict[str, Any] = {"topology": topology, "owned": False}
    configuration[STATE_KEY] = state
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
            state_dir = Path(tempfile.mkdtemp(prefix="meshdrill-lab-"))
            info = None
        if info is None:
            logger.info(
                "starting the embedded mesh lab (%s) in %s", topology, state_dir
            )
            info = runtime.start_lab(topology, state_dir)
            state["owned"] = True
        else:
            logger.info("using the running mesh lab (%s) in %s", topology, state_dir)
    except Exception as exc:  # reported by before_experiment_control
        state["error"] = f"the embedded lab could not start: {exc}"
        logger.error("%s", state["error"])
        return
    state["state_dir"] = str(state_dir)
    state["contexts"] = dict(info.clusters)
    configuration["kubeconfig"] = str(info.kubeconfig)


def before_experiment_control(
    context: Any, configuration: Configuration = None, **_: Any
) -> None:
    """Stop the run before anything is touched if the lab failed to start."""
    error = ((configuration or {}).get(STATE_KEY) or {}).get("error")
    if error:
        refuse(configuration, error)


def after_experiment_control(
    context: Any, state: Any = None, configuration: Configuration = None, **_: Any
) -> None:
    """Stop the lab this run started (a lab the user started keeps running)."""
    lab = (configuration or {}).get(STATE_KEY) or {}
    if lab.get("owned") and lab.get("state_dir"):
        logger.info("stopping the embedded mesh lab started for this run")
        runtime.stop_lab(Path(lab["state_dir"]))


def _topology(value: str) -> str:
    """A shipped topology name as is; a path made absolute so labs compare."""
    text = str(value)
    if "/" in text or text.endswith((".yaml", ".yml")):
        return str(Path(text).expanduser().resolve())
    return text
