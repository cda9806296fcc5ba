"""Refusing to start a drill: nothing was done, so there is nothing to roll back."""

import logging
from collections.abc import MutableMapping
from typing import Any, NoReturn

__all__ = ["REFUSED_KEY", "refuse", "refused"]

logger = logging.getLogger("chaostoolkit")

REFUSED_KEY = "meshdrill_refused"

NO_ROLLBACKS = 30
"""chaoslib's exit code for "end now and play no rollbacks" (chaoslib.exit)."""


def refuse(configuration: MutableMapping[str, Any] | None, reason: str) -> NoReturn:
    """End the run before anything is touched; the verdict reports `reason`."""
    logger.error("meshdrill refuses to run this drill: %s", reason)
    if configuration is not None:
        configuration[REFUSED_KEY] = reason
    raise SystemExit(NO_ROLLBACKS)


def refused(configuration: MutableMapping[str, Any] | None) -> str | None:
    return (configuration or {}).get(REFUSED_KEY)
