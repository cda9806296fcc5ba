"""Post a game-day report to the webhooks that asked for its outcome."""

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from chaosext.gameday.model import Webhook

__all__ = ["TIMEOUT", "notify", "redact"]

log = logging.getLogger("meshdrill.gameday")

TIMEOUT = 10.0  # seconds, connect and read


def redact(url: str) -> str:
    """The URL without path or query, which often hold a token (Slack, Teams)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    tail = "/..." if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{tail}"


def notify(hooks: Sequence[Webhook], report: dict[str, Any], passed: bool) -> list[str]:
    """POST `report` as JSON to each matching hook; return those that failed.

    A failing webhook is logged (URL redacted) and never fails the game day.
    """
    failed: list[str] = []
    for hook in hooks:
        if not hook.wants(passed):
            continue
        try:
            response = requests.post(hook.url, json=report, timeout=TIMEOUT)
            response.raise_for_status()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            log.error("webhook %s answered HTTP %s", redact(hook.url), status)
            failed.append(redact(hook.url))
        except requests.RequestException as exc:
            # the exception's text may quote the URL and its token: name the type
            log.error("webhook %s failed: %s", redact(hook.url), type(exc).__name__)
            failed.append(redact(hook.url))
        else:
            log.info("posted the game-day summary to %s", redact(hook.url))
    return failed
