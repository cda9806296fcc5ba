"""Refusing to start a drill: nothing was done, so there is nothing to roll back."""

import logging
from collections.abc import MutableMapping
from typing import Any, NoReturn

from chaosext import runcontext

__all__ = ["refuse", "refused"]

logger = logging.getLogger("chaostoolkit")

NO_ROLLBACKS = 30
"""chaoslib's exit code for "end now and play no rollbacks" (chaoslib.exit)."""


def refuse(configuration: MutableMapping[str, Any] | None, reason: str) -> NoReturn:
    """End the run before anything is touched; the verdict reports `reason`."""
    logger.error("meshdrill refuses to run this drill: %s", reason)
    if configuration is not None:
        runcontext.ensure(configuration).refused = reason
    raise SystemExit(NO_ROLLBACKS)


def refused(configuration: MutableMapping[str, Any] | None) -> str | None:
    context = runcontext.of(configuration)
    return context.refused if context is not None else None
