"""Discovery documents: /version, /api, /apis and the per group-version resource lists.

Served in the legacy (non-aggregated) form: kubectl 1.32 asks for aggregated
discovery first and falls back to these when the answer is plain `application/json`.
"""

from typing import Any

from chaosext.lab import kinds
from chaosext.lab.objects import KUBE_VERSION

SUBRESOURCE_KINDS = {
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "status": ("", "", "", ("get", "patch", "update")),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "exec": ("", "v1", "PodExecOptions", ("create", "get")),
    "log": ("", "v1", "Pod", ("get",)),
    "portforward": ("", "v1", "PodPortForwardOptions", ("create", "get")),
}


def version() -> dict[str, Any]:
    major, minor, _ = KUBE_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"{KUBE_VERSION}-meshdrill-lab",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: tuple[str, ...]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {
        "name": name,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def group_list() -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in kinds.group_versions()],
    }


def group(name: str) -> dict[str, Any] | None:
    for group_name, versions in kinds.group_versions():
        if group_name == name:
            return {"kind": "APIGroup", "apiVersion": "v1"} | _group(name, versions)
    return None


def resource_list(group_name: str, version: str) -> dict[str, Any] | None:
    """The APIResourceList of one group-version, or None if it is not served."""
    served = kinds.served(group_name, version)
    known = dict(kinds.group_versions())
    if not served and version not in known.get(group_name, ()):
        return None
    resources: list[dict[str, Any]] = []
    for kind in served:
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": list(kind.verbs),
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        resources.append(entry)
        for sub in kind.subresources:
            sub_group, sub_version, sub_kind, verbs = SUBRESOURCE_KINDS[sub]
            sub_entry: dict[str, Any] = {
                "name": f"{kind.plural}/{sub}",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": sub_kind or kind.kind,
                "verbs": list(verbs),
            }
            if sub_group:
                sub_entry["group"] = sub_group
            if sub_version and sub_group:
                sub_entry["version"] = sub_version
            resources.append(sub_entry)
    gv = f"{group_name}/{version}" if group_name else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }
