"""Control piece: what a run aims at, said in its first and last lines and journal.

The embedded lab (its topology and folder), or a kubeconfig with the contexts
the run names and their API servers. A drill meant for production that silently
fell back to the lab would say "passed" about the lab; naming the target at
both ends of the output and in the journal makes that impossible to miss.
"""

from collections.abc import Mapping
from typing import Any

import yaml

from chaosext import clusters
from chaosext.runcontext import RunContext

__all__ = ["describe", "line"]


def describe(
    context: RunContext,
    configuration: Mapping[str, Any],
    secrets: Mapping[str, Any] | None,
    contexts: set[str],
) -> dict[str, Any]:
    """The run's target as JSON: kind, where, and the API server per context."""
    lab = context.lab
    if lab is not None and (lab.error or not lab.state_dir):
        return {
            "kind": "lab",
            "topology": lab.topology,
            "error": lab.error or "the lab did not start",
        }
    if lab is not None and lab.state_dir:
        return {
            "kind": "lab",
            "topology": lab.topology,
            "state_dir": lab.state_dir,
            "private": lab.private,
            "servers": {c: lab.contexts.get(c, "?") for c in sorted(contexts)}
            or dict(lab.contexts),
        }
    try:
        path = clusters.kubeconfig_path(configuration, secrets)
    except clusters.ClusterError as exc:
        return {"kind": "kubeconfig", "kubeconfig": None, "error": str(exc)}
    servers = _servers(path)
    return {
        "kind": "kubeconfig",
        "kubeconfig": str(path),
        "servers": {
            c: servers.get(c, "not in the kubeconfig") for c in sorted(contexts)
        },
    }


def line(target: Mapping[str, Any]) -> str:
    """One line for the terminal."""
    servers = ", ".join(f"{c} {s}" for c, s in (target.get("servers") or {}).items())
    if target.get("kind") == "lab" and target.get("error"):
        return f"the embedded lab, topology {target.get('topology')}: {target['error']}"
    if target.get("kind") == "lab":
        private = " (private)" if target.get("private") else ""
        return (
            f"the embedded lab{private}, topology {target.get('topology')}"
            f" in {target.get('state_dir')}: {servers or 'no contexts'}"
        )
    if target.get("error"):
        return f"a kubeconfig: {target['error']}"
    return f"kubeconfig {target.get('kubeconfig')}: {servers or 'no contexts'}"


def _servers(path: Any) -> dict[str, str]:
    """context -> API server URL, read from the kubeconfig ({} if unreadable)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    urls = {
        str(c.get("name")): str((c.get("cluster") or {}).get("server", "?"))
        for c in data.get("clusters") or []
        if isinstance(c, dict)
    }
    return {
        str(c.get("name")): urls.get(str((c.get("context") or {}).get("cluster")), "?")
        for c in data.get("contexts") or []
        if isinstance(c, dict)
    }
