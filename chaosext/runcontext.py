"""The state of one drill run, typed, under one configuration key.

The drill control creates a `RunContext` when the run is configured and keeps it
in the configuration under `KEY`, the one place the controls, actions and probes
read run state from: the run id (stamped into restore records), whether the run
is dry, the lab the run started, why it was refused or interrupted, the
safeguard's watcher and trip reason, the target, and what went wrong in the
controls themselves. Chaos Toolkit hands activities the configuration as it is,
so the object travels unchanged.

A direct call outside a drill (a script, a test) has no context: actions then
work as run `unmanaged`, or take a context made by `for_call`.
"""

import dataclasses
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KEY",
    "UNMANAGED_RUN",
    "LabState",
    "RunContext",
    "for_call",
    "of",
    "raise_if_stopped",
]

KEY = "meshdrill"
"""The configuration key that holds the run's RunContext."""

UNMANAGED_RUN = "unmanaged"
"""The run id of an action called outside a drill."""


@dataclass
class LabState:
    """The embedded lab a run uses: the user's, or one it started."""

    topology: str
    owned: bool = False  # started for this run: stopped when it ends
    private: bool = False  # in a temporary folder: removed when it ends
    state_dir: str | None = None
    contexts: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunContext:
    """Everything the controls, actions and probes share about one run."""

    run_id: str = UNMANAGED_RUN
    dry_run: str | None = None  # chaos run --dry value
    lab: LabState | None = None
    refused: str | None = None
    interrupted: str | None = None  # the signal that ended the run
    safeguard: str | None = None  # why the safeguard tripped
    target: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # control steps that failed
    started_seq: int | None = None  # the ledger line that marks the run started
    method_started: bool = False  # probes after it know they are after the method
    watch: Any = field(default=None, repr=False, compare=False)
    signal_handlers: dict[Any, Any] = field(
        default_factory=dict, repr=False, compare=False
    )

    def dry(self) -> "RunContext":
        """A copy of this context for planning: actions change nothing."""
        return dataclasses.replace(self, dry_run=self.dry_run or "actions")


def of(configuration: Mapping[str, Any] | None) -> RunContext | None:
    """The run's context, or None outside a drill."""
    found = (configuration or {}).get(KEY)
    return found if isinstance(found, RunContext) else None


def ensure(configuration: MutableMapping[str, Any]) -> RunContext:
    """The run's context, created empty if the configuration has none yet."""
    found = of(configuration)
    if found is None:
        found = RunContext()
        configuration[KEY] = found
    return found


def for_call(
    configuration: Mapping[str, Any] | None = None,
    run_id: str = UNMANAGED_RUN,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """A configuration for calling an action directly, as run `run_id`."""
    context = RunContext(run_id=run_id, dry_run="actions" if dry_run else None)
    return {**(configuration or {}), KEY: context}


def raise_if_stopped(configuration: Mapping[str, Any] | None) -> None:
    """Raise what ends the run if it was told to end and is still going.

    A safeguard trip (SIGUSR1) or a SIGINT/SIGTERM ends a run by an exception
    raised in the main thread wherever it is. When that lands in a finalizer
    (a closed connection's `__del__` while a sampler churns through thousands of
    them), Python prints "Exception ignored" and goes on: the drill would sample
    on to its deadline. Long waits call this between steps, so a stop is never
    lost: chaoslib's own exits are raised again (SystemExit 20 as on SIGUSR1,
    KeyboardInterrupt, InterruptExecution as on SIGTERM), with rollbacks.
    """
    context = of(configuration)
    if context is None:
        return
    if context.safeguard:
        raise SystemExit(20)  # chaoslib.exit: SIGUSR1, rollbacks are played
    if context.interrupted == "SIGINT":
        raise KeyboardInterrupt
    if context.interrupted == "SIGTERM":
        from chaoslib.exceptions import InterruptExecution

        raise InterruptExecution("SIGTERM signal received")
