"""Keep secrets out of the archive: redact declared positions, scrub the rest.

1. `experiment.secrets`: every value of every scope becomes "***".
2. `experiment.configuration`: a value whose key looks secret (see
   `SECRET_KEY_WORDS`) or is listed in `meshdrill_secret_keys` becomes "***";
   `{"type": "env", ...}` declarations stay (they hold a variable name), except
   their `default`, which is redacted under a secret key.
3. Every occurrence of a secret value anywhere in the journal (outputs,
   exceptions, logs, keys) becomes "***". Secret values are the literals above,
   the resolved `secrets` and the resolved values of secret configuration keys.
   Values of `MIN_SUBSTRING` characters or more are replaced inside longer
   strings; shorter ones only where a whole string equals them.
"""

import dataclasses
import datetime
import decimal
import enum
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

MASK = "***"
SECRET_KEY_WORDS = ("token", "password", "passwd", "secret", "key", "credential")
SECRET_KEYS_OPTION = "meshdrill_secret_keys"
MIN_SUBSTRING = 4

logger = logging.getLogger("chaostoolkit")


def is_secret_key(name: str, listed: Iterable[str] = ()) -> bool:
    """True if a configuration key names a secret (by its words, or listed)."""
    if name == SECRET_KEYS_OPTION:
        return False
    lowered = name.lower()
    return name in set(listed) or any(word in lowered for word in SECRET_KEY_WORDS)


def to_json(value: object) -> object:
    """Encode the non-JSON values chaoslib leaves in journals (enums, dates...)."""
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return repr(value)


def _is_declaration(value: object) -> bool:
    return isinstance(value, Mapping) and "type" in value


def _leaves(value: object) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def listed_keys(configuration: Mapping[str, Any] | None) -> list[str]:
    listed = (configuration or {}).get(SECRET_KEYS_OPTION) or []
    return [listed] if isinstance(listed, str) else [str(k) for k in listed]


def secret_values(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
) -> set[str]:
    """Every secret string this run knows of: declared literals and resolved values."""
    values: set[str] = set(_leaves(secrets or {}))
    for scope in (experiment.get("secrets") or {}).values():
        if isinstance(scope, Mapping):
            for item in scope.values():
                if not _is_declaration(item):
                    values.update(_leaves(item))
    listed = listed_keys(experiment.get("configuration")) + listed_keys(configuration)
    for config in (experiment.get("configuration") or {}, configuration or {}):
        for key, item in config.items():
            if not is_secret_key(str(key), listed):
                continue
            if _is_declaration(item):
                if item.get("type") == "env" and "default" in item:
                    values.update(_leaves(item["default"]))
            else:
                values.update(_leaves(item))
    return {v for v in values if v and v != MASK}


def _redact_configuration(config: Mapping[str, Any], listed: list[str]) -> dict:
    out: dict[str, Any] = {}
    for key, item in config.items():
        if _is_declaration(item):
            decl = dict(item)
            if is_secret_key(str(key), listed) and "default" in decl:
                decl["default"] = MASK
            out[key] = decl
        elif is_secret_key(str(key), listed):
            out[key] = MASK
        elif isinstance(item, Mapping):
            out[key] = _redact_configuration(item, listed)
        else:
            out[key] = item
    return out


def redact_experiment(experiment: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the experiment with secrets and secret configuration masked."""
    out = dict(experiment)
    if isinstance(experiment.get("secrets"), Mapping):
        out["secrets"] = {
            scope: (
                dict.fromkeys(values, MASK) if isinstance(values, Mapping) else MASK
            )
            for scope, values in experiment["secrets"].items()
        }
    if isinstance(experiment.get("configuration"), Mapping):
        config = experiment["configuration"]
        out["configuration"] = _redact_configuration(config, listed_keys(config))
    return out


class Scrubber:
    """Replace known secret strings anywhere in a JSON-like value."""

    def __init__(self, values: Iterable[str]) -> None:
        ordered = sorted(set(values), key=len, reverse=True)
        self.long = [v for v in ordered if len(v) >= MIN_SUBSTRING]
        self.short = {v for v in ordered if len(v) < MIN_SUBSTRING}
        self.count = 0
        if self.short:
            logger.warning(
                "meshdrill archive: %d secret value(s) shorter than %d characters "
                "are redacted only where a whole string equals them",
                len(self.short),
                MIN_SUBSTRING,
            )

    def text(self, value: str) -> str:
        if value in self.short:
            self.count += 1
            return MASK
        for secret in self.long:
            if secret in value:
                self.count += value.count(secret)
                value = value.replace(secret, MASK)
        return value

    def __call__(self, value: object) -> object:
        if isinstance(value, str):
            return self.text(value)
        if value is None:
            return None
        if isinstance(value, bool | int | float):
            text = str(value)
            return self.text(text) if text in self.short or text in self.long else value
        if isinstance(value, Mapping):
            return {self.text(str(k)): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return self(to_json(value))


def redact_journal(
    journal: Mapping[str, Any],
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], Scrubber]:
    """A JSON-clean copy of the journal with no secret left; the scrubber counts."""
    experiment = journal.get("experiment") or {}
    scrubber = Scrubber(secret_values(experiment, configuration, secrets))
    copy = dict(journal)
    if isinstance(experiment, Mapping):
        copy["experiment"] = redact_experiment(experiment)
    clean = scrubber(copy)
    assert isinstance(clean, dict)
    return clean, scrubber
