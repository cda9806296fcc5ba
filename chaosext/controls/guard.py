"""Control: refuse to start a drill that would reach beyond its allowed blast radius.

Against real clusters (any `kubeconfig` but the lab) a drill must say which
kubeconfig contexts it may touch, in configuration `allowed_contexts`, and may say
which namespaces, in `allowed_namespaces`. Before anything runs, this control
reads every context and namespace the experiment's activities name (after
substituting the configuration) and refuses to start, naming the first one out of
bounds (ending the run with no rollbacks: nothing was done).
`chaosext.clusters.connect` enforces `allowed_contexts` again on every call,
rollbacks and restore included, so nothing can slip past at run time. The lab's
contexts are always allowed.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from chaoslib import substitute
from chaoslib.types import Configuration, Experiment, Secrets

from chaosext import clusters
from chaosext.controls.lab import on_lab
from chaosext.controls.refusal import refuse

__all__ = ["before_experiment_control", "referenced"]

CONTEXT_KEYS = {"context", "contexts", "ingress_context", "client_context"}
NAMESPACE_KEYS = {"namespace", "client_namespace"}


def before_experiment_control(
    context: Experiment,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    """Refuse the run when it names a context or namespace it may not touch."""
    configuration = configuration or {}
    allowed = clusters.allowed_contexts(configuration)
    if allowed is None and not on_lab(configuration):
        refuse(
            configuration,
            _missing_kubeconfig(configuration)
            + "blast-radius guard: this drill targets real clusters but configuration"
            " 'allowed_contexts' is not set: list the kubeconfig contexts it may"
            " touch (e.g. in your var file); nothing was done",
        )
    namespaces = _listed(configuration.get("allowed_namespaces"))
    for where, key, value in referenced(context, configuration, secrets):
        if key in CONTEXT_KEYS and allowed is not None and value not in allowed:
            refuse(
                configuration,
                f"blast-radius guard: {where} names context '{value}', which is not"
                f" in allowed_contexts ({', '.join(allowed)}); nothing was done",
            )
        if key in NAMESPACE_KEYS and namespaces and value not in namespaces:
            refuse(
                configuration,
                f"blast-radius guard: {where} names namespace '{value}', which is not"
                f" in allowed_namespaces ({', '.join(namespaces)}); nothing was done",
            )


def _missing_kubeconfig(configuration: Mapping[str, Any]) -> str:
    """A prefix naming the configured kubeconfig file when it is missing, else ""."""
    path = configuration.get("kubeconfig")
    if not isinstance(path, str) or not path or path == clusters.LAB:
        return ""
    try:
        clusters.kubeconfig_path({"kubeconfig": path})
    except clusters.ClusterError as exc:
        return f"{exc}; "
    return ""


def referenced(
    experiment: Experiment,
    configuration: Mapping[str, Any],
    secrets: Secrets,
) -> Iterator[tuple[str, str, str]]:
    """(activity, key, value) for every context/namespace an activity names."""
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    activities = [
        *hypothesis.get("probes", []),
        *experiment.get("method", []),
        *experiment.get("rollbacks", []),
    ]
    for activity in activities:
        provider = activity.get("provider") or {}
        arguments = substitute(
            provider.get("arguments") or {}, dict(configuration), dict(secrets or {})
        )
        where = f"activity '{activity.get('name', '?')}'"
        for key, value in _walk(arguments):
            yield where, key, value


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    elif key in CONTEXT_KEYS | NAMESPACE_KEYS and isinstance(value, str) and value:
        yield key, value


def _listed(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]
