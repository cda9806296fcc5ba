"""Control piece: check every input before anything changes.

chaoslib logs and skips a var file it cannot parse, drops `--var` and var-file
keys the experiment does not declare, and checks an activity's arguments only
when the method reaches it (after the fault is applied). A misspelt key then
runs the drill against the defaults, the embedded lab included. Before the
first change this piece checks what chaoslib does not:
- each `--var-file` parses (JSON or YAML), is a mapping, and holds only
  `configuration` and `secrets` mappings;
- each `--var` and var-file configuration key is one the experiment declares
  (naming the close match);
- every meshdrill activity's arguments, in the whole experiment, pass the same
  checks the activity makes (names, `${...}` references, numbers, sources,
  workloads, expected splits).
`problems` returns one line per problem, each naming the file, key or argument.

The `chaos run` command's own options are read from its click context (the
controls run inside the `run` command); an in-process run has none, and then
only the experiment's own arguments are checked.
"""

import difflib
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import yaml
from chaoslib import substitute
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Experiment, Secrets

from chaosext import clusters
from chaosext.actions import httpfault, virtualservice
from chaosext.controls.lab import on_lab
from chaosext.controls.refusal import refuse
from probes import arguments, latency, measure, predicted
from probes.source import resolver_for, source_from

__all__ = [
    "before_experiment_control",
    "chaos_options",
    "problems",
    "var_file_problems",
]

MESHDRILL_MODULES = ("chaosext.actions.", "probes.")
INJECTED = {"configuration", "secrets"}
VAR_FILE_KEYS = ("configuration", "secrets")

Check = Callable[[Any, Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], None]


def chaos_options() -> dict[str, Any]:
    """`chaos run`'s options (`var`, `var_file`, `dry`...), {} outside of it."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if "var_file" in ctx.params or "var" in ctx.params:
            return dict(ctx.params)
        ctx = ctx.parent
    return {}


def before_experiment_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    safeguards: Mapping[str, Any] | None = None,
    **_: Any,
) -> None:
    """Refuse the run, in one line, at its first bad input; nothing was done."""
    configuration = configuration if configuration is not None else {}
    found = problems(
        context,
        configuration,
        secrets,
        extra_activities=list((safeguards or {}).get("probes") or []),
    )
    budget = (safeguards or {}).get("error_budget")
    if isinstance(budget, Mapping) and "source" in budget:
        try:
            source_from(
                substitute(budget["source"], dict(configuration), dict(secrets or {})),
                configuration,
                secrets,
            )
        except ActivityFailed as exc:
            found.append(f"safeguards.error_budget: {exc}")
    if not found and not on_lab(configuration):
        found = kubeconfig_problems(configuration, secrets)
    if found:
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        for other in found[1:]:
            logging.getLogger("chaostoolkit").error("bad input: %s", other)
        refuse(configuration, f"{found[0]}{more}; nothing was done")


def kubeconfig_problems(
    configuration: Mapping[str, Any], secrets: Mapping[str, Any] | None
) -> list[str]:
    """The kubeconfig a real-cluster run targets must exist and be readable."""
    try:
        clusters.contexts_in(clusters.kubeconfig_path(configuration, secrets))
    except clusters.ClusterError as exc:
        return [str(exc)]
    return []


def problems(
    experiment: Experiment,
    configuration: Mapping[str, Any],
    secrets: Mapping[str, Any] | None,
    options: Mapping[str, Any] | None = None,
    extra_activities: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Every input problem of this run, one line each (empty: all good)."""
    options = chaos_options() if options is None else options
    declared = set((experiment.get("configuration") or {}).keys())
    found: list[str] = []
    for path in options.get("var_file") or ():
        found += var_file_problems(Path(path), declared)
    for key in options.get("var") or {}:
        if key not in declared:
            found.append(
                f"--var {key}: the experiment declares no configuration key"
                f" '{key}'{_close(key, declared)}"
            )
    if found:  # arguments built from misspelt values would only repeat them
        return found
    for activity in [*_activities(experiment), *(extra_activities or [])]:
        found += activity_problems(activity, configuration, secrets or {})
    return found


def var_file_problems(path: Path, declared: set[str] | None = None) -> list[str]:
    """Problems of one `--var-file` (declared: the experiment's configuration)."""
    if path.suffix not in (".yaml", ".yml", ".json"):
        return []  # a .env file: chaoslib exports its lines to the environment
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [f"var file {path}: cannot be read: {exc.strerror or exc}"]
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        return [f"{path}{_mark(exc)}: not valid YAML/JSON: {_problem(exc)}"]
    if node is None:
        return []  # empty: chaoslib skips it
    if not isinstance(node, yaml.MappingNode):
        what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        return [
            f"{path}:{node.start_mark.line + 1}: a var file must be a mapping with"
            f" 'configuration' and/or 'secrets', not {what}"
        ]
    found: list[str] = []
    for key_node, value_node in node.value:
        key = str(key_node.value)
        where = f"{path}:{key_node.start_mark.line + 1}"
        if key not in VAR_FILE_KEYS:
            hint = (
                " (a configuration key: put it under 'configuration:')"
                if declared and key in declared
                else _close(key, set(VAR_FILE_KEYS))
            )
            found.append(
                f"{where}: top-level key '{key}' is neither 'configuration' nor"
                f" 'secrets'{hint}"
            )
            continue
        if not isinstance(value_node, yaml.MappingNode):
            found.append(f"{where}: '{key}' must be a mapping")
            continue
        if key == "configuration" and declared is not None:
            for inner, _value in value_node.value:
                name = str(inner.value)
                if name not in declared:
                    found.append(
                        f"{path}:{inner.start_mark.line + 1}: configuration key"
                        f" '{name}' is not declared by the experiment"
                        f"{_close(name, declared)}"
                    )
    return found


def activity_problems(
    activity: Mapping[str, Any],
    configuration: Mapping[str, Any],
    secrets: Mapping[str, Any],
) -> list[str]:
    """Problems of one meshdrill activity's arguments, as the activity sees them."""
    provider = activity.get("provider") or {}
    module = str(provider.get("module", ""))
    if provider.get("type") != "python" or not module.startswith(MESHDRILL_MODULES):
        return []
    name = f"activity '{activity.get('name', '?')}'"
    try:
        func = getattr(importlib.import_module(module), str(provider.get("func")))
    except (ImportError, AttributeError):
        return [f"{name}: no function '{provider.get('func')}' in module {module}"]
    raw = provider.get("arguments") or {}
    if not isinstance(raw, Mapping):
        return [f"{name}: 'arguments' must be an object"]
    given = substitute(dict(raw), dict(configuration), dict(secrets))
    params = inspect.signature(func).parameters
    found: list[str] = []
    for key in given:
        if key not in params or key in INJECTED:
            found.append(
                f"{name}: {module}.{func.__name__} has no argument '{key}'"
                f"{_close(key, set(params) - INJECTED)}"
            )
    for key, param in params.items():
        if key in INJECTED or param.default is not inspect.Parameter.empty:
            continue
        if key not in given:
            found.append(f"{name}: argument '{key}' is missing")
    keyed = _substitute_keys(given, configuration, secrets)
    for key, text in _unresolved(keyed):
        found.append(
            f"{name}: argument '{key}' refers to {text}, which the configuration"
            " does not declare"
        )
    if found:
        return found
    values = {
        key: given.get(key, param.default)
        for key, param in params.items()
        if key not in INJECTED
    }
    for key, check in CHECKS.items():
        if key not in values:
            continue
        try:
            check(values[key], values, configuration, secrets)
        except ActivityFailed as exc:
            found.append(f"{name}: {exc}")
    return found


def _activities(experiment: Experiment) -> Iterator[Mapping[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    yield from hypothesis.get("probes") or []
    yield from experiment.get("method") or []
    yield from experiment.get("rollbacks") or []


def _substitute_keys(
    value: Any, configuration: Mapping[str, Any], secrets: Mapping[str, Any]
) -> Any:
    """Keys substituted too (chaoslib substitutes values only; probes do keys)."""
    if isinstance(value, Mapping):
        return {
            str(substitute(str(k), dict(configuration), dict(secrets))): (
                _substitute_keys(v, configuration, secrets)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute_keys(v, configuration, secrets) for v in value]
    return value


def _unresolved(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(argument, text) for every `${...}` left after substitution."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _unresolved(v, key or str(k))
            if isinstance(k, str) and "${" in k:
                yield key or k, k
    elif isinstance(value, list):
        for v in value:
            yield from _unresolved(v, key)
    elif isinstance(value, str) and "${" in value:
        yield key, value


def _checks() -> dict[str, Check]:
    """The argument checks the activities make, keyed by argument name."""

    def real(name: str, low: float | None = None) -> Check:
        def check(value: Any, *_: Any) -> None:
            arguments.real(name, value, low=low)

        return check

    def integer(name: str, low: int) -> Check:
        def check(value: Any, *_: Any) -> None:
            arguments.integer(name, value, low=low)

        return check

    def positive(value: Any, *_: Any) -> None:
        if arguments.real("deadline", value) <= 0:
            raise ActivityFailed(f"argument 'deadline' must be > 0, got {value}")

    def optional_count(value: Any, *_: Any) -> None:
        if value is not None and value != "":
            arguments.integer("max_transition_errors", value, low=0)

    def source(value: Any, _given: Any, configuration: Any, secrets: Any) -> None:
        source_from(value, configuration, secrets)

    def workload(value: Any, _given: Any, configuration: Any, secrets: Any) -> None:
        resolver_for(value, configuration, secrets)

    def expected(value: Any, given: Any, configuration: Any, secrets: Any) -> None:
        if value == predicted.PREDICTED:  # read from the live mesh when it runs
            return
        measure.check_split(
            value,
            arguments.real("tolerance", given.get("tolerance", 0.1)),
            arguments.real("confidence", given.get("confidence", 0.95)),
            configuration,
            secrets,
        )

    def host(value: Any, given: Any, *_: Any) -> None:
        """The fault's target: `selector` xor `host` (inject/clear_http_fault)."""
        try:
            if httpfault.form(given.get("selector"), value) == "host":
                virtualservice.mesh_host(value, str(given.get("namespace", "")))
        except ValueError as exc:
            raise ActivityFailed(str(exc)) from exc

    def fault(value: Any, given: Any, *_: Any) -> None:
        """inject_http_fault's fault (`delay_percentage` is its argument alone)."""
        try:
            httpfault.fault_from(
                given.get("status"),
                given.get("percentage"),
                given.get("delay"),
                value,
            )
        except ValueError as exc:
            raise ActivityFailed(str(exc)) from exc

    def latencies(name: str) -> Check:
        def check(value: Any, *_: Any) -> None:
            latency.check_bounds(name, value)

        return check

    return {
        "host": host,
        "delay_percentage": fault,
        "latency_at_least": latencies("latency_at_least"),
        "latency_below": latencies("latency_below"),
        "tolerance": real("tolerance"),
        "confidence": real("confidence"),
        "max_error_rate": real("max_error_rate", 0.0),
        "max_leakage": real("max_leakage"),
        "delay": real("delay", 0.0),
        "samples": integer("samples", 1),
        "max_samples": integer("max_samples", 1),
        "batch": integer("batch", 1),
        "consecutive": integer("consecutive", 1),
        "deadline": positive,
        "max_transition_errors": optional_count,
        "source": source,
        "workload": workload,
        "expected": expected,
    }


CHECKS = _checks()


def _close(word: str, choices: set[str]) -> str:
    match = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def _problem(exc: yaml.YAMLError) -> str:
    return str(getattr(exc, "problem", None) or exc).strip()
