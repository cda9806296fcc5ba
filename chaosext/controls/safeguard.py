"""Control: abort the drill (and restore) when the fault hurts more than allowed.

Declared through the drill control's arguments:
```json
"controls": [{"name": "meshdrill", "provider": {"type": "python",
  "module": "chaosext.controls.drill",
  "arguments": {"safeguards": {
      "error_budget": {"source": {...}, "max_error_rate": 0.2, "grace": 5,
                       "batch": 10, "interval": 1.0},
      "probes": [{"type": "probe", "name": "...", "provider": {...},
                  "tolerance": ...}]}}}}]
```
While the method runs, a watcher samples `batch` requests from `source` every
`interval` seconds; when the error rate stays above `max_error_rate` for longer
than `grace` seconds, or a listed probe misses its tolerance, it ends the run as
Chaos Toolkit's own safeguards do (SIGUSR1: interrupted, rollbacks played), and
the restore control puts everything back. The journal's verdict names the
safeguard and the numbers.
"""

import logging
import os
import signal
import threading
import time
from collections.abc import MutableMapping
from typing import Any

from chaoslib.activity import run_activity
from chaoslib.exceptions import ActivityFailed
from chaoslib.hypothesis import within_tolerance

from chaosext import runcontext
from probes.source import source_from

__all__ = ["Watch", "start", "stop", "tripped"]

logger = logging.getLogger("chaostoolkit")


class Watch(threading.Thread):
    """Background watcher of one run's safeguards."""

    def __init__(
        self,
        spec: dict[str, Any],
        configuration: MutableMapping[str, Any],
        secrets: Any,
    ) -> None:
        super().__init__(name="meshdrill-safeguard", daemon=True)
        self.spec = spec
        self.configuration = configuration
        self.secrets = secrets
        self.stopped = threading.Event()
        budget = spec.get("error_budget") or {}
        self.budget = budget
        self.source = (
            source_from(budget["source"], configuration, secrets) if budget else None
        )
        self.interval = float(budget.get("interval", spec.get("interval", 1.0)))
        self.probes = list(spec.get("probes") or [])

    def run(self) -> None:
        over_since: float | None = None
        while not self.stopped.wait(self.interval):
            if self.source is not None:
                over_since = self._check_budget(over_since)
            for probe in self.probes:
                self._check_probe(probe)

    def _check_budget(self, over_since: float | None) -> float | None:
        assert self.source is not None
        try:
            sample = self.source.sample(int(self.budget.get("batch", 10)))
        except ActivityFailed as exc:
            logger.warning("safeguard: could not sample: %s", exc)
            return over_since
        errors = sum(sample.errors.values())
        rate = errors / sample.total if sample.total else 0.0
        limit = float(self.budget.get("max_error_rate", 0.2))
        if rate <= limit:
            return None
        now = time.monotonic()
        over_since = over_since if over_since is not None else now
        grace = float(self.budget.get("grace", 5.0))
        if now - over_since >= grace:
            self.trip(
                f"error budget: client error rate {rate:.0%} ({errors} of"
                f" {sample.total}, {dict(sample.errors)}) above {limit:.0%} for"
                f" {now - over_since:.1f} s (grace {grace:g} s)"
            )
        return over_since

    def _check_probe(self, probe: dict[str, Any]) -> None:
        name = probe.get("name", "?")
        try:
            value = run_activity(probe, dict(self.configuration), self.secrets)
        except ActivityFailed as exc:
            self.trip(f"probe '{name}' failed: {exc}")
            return
        tolerance = probe.get("tolerance")
        if tolerance is not None and not within_tolerance(
            tolerance, value, self.configuration, self.secrets
        ):
            self.trip(f"probe '{name}' out of tolerance: {_summary(value)}")

    def trip(self, reason: str) -> None:
        context = runcontext.ensure(self.configuration)
        if self.stopped.is_set() or context.safeguard:
            return
        context.safeguard = reason
        self.stopped.set()
        logger.error("safeguard tripped, ending the drill: %s", reason)
        os.kill(os.getpid(), signal.SIGUSR1)  # chaoslib: interrupted, rollbacks


def _summary(value: Any) -> str:
    """A probe's verdict and reasons (meshdrill probes), else its output, short."""
    if isinstance(value, dict) and value.get("reasons"):
        reasons = "; ".join(str(r) for r in value["reasons"])
        return f"verdict {value.get('verdict')}: {reasons}"[:500]
    return str(value)[:300]


def start(
    spec: dict[str, Any] | None,
    configuration: MutableMapping[str, Any] | None,
    secrets: Any,
) -> None:
    """Start watching (when safeguards are declared) as the method starts."""
    if not spec or configuration is None:
        return
    watch = Watch(spec, configuration, secrets)
    runcontext.ensure(configuration).watch = watch
    watch.start()


def stop(configuration: MutableMapping[str, Any] | None) -> None:
    """Stop watching; waits a little for the current check to end."""
    context = runcontext.of(configuration)
    watch = context.watch if context is not None else None
    if context is not None:
        context.watch = None
    if isinstance(watch, Watch):
        watch.stopped.set()
        watch.join(timeout=10)


def tripped(configuration: MutableMapping[str, Any] | None) -> str | None:
    context = runcontext.of(configuration)
    return context.safeguard if context is not None else None
