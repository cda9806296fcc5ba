"""Read a live mesh once: every context of a kubeconfig, through `chaosext.clusters`
(real clusters and the lab alike, over HTTP), into a `MeshState`.

Per context it makes a fixed number of list calls (`CALLS_PER_CONTEXT`, plus one
more for each older DestinationRule API version a cluster may lack, and one more
for each page past the first: lists are read `clusters.LIST_PAGE` items at a
time, as kubectl does): nodes, namespaces, pods, services, deployments,
DestinationRules, and the `istio` ConfigMap for the mesh-wide
`localityLbSetting`. Everything after the read
(predictions, any number of what-ifs, lint) answers from memory.

RBAC it needs (cluster-wide): `list` on nodes, namespaces, pods, services,
deployments.apps and destinationrules.networking.istio.io; `get` on configmaps in
`istio-system` (optional: without it the mesh default `{enabled: true}` is used).
A 403 names the verb and the resource that is missing.
"""

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from chaosext import clusters
from chaosext.live.state import ClusterObjects, MeshState
from chaosext.mesh import lookup, names

LAB = clusters.LAB
DR_GROUP = "networking.istio.io"
DR_VERSIONS = ("v1", "v1beta1", "v1alpha3")
MESH_CONFIGMAP = "istio"
CALLS_PER_CONTEXT = 7


class ReadError(Exception):
    """The mesh cannot be read: the message names the context, verb and resource."""


def lab_kubeconfig(state_dir: Path | None = None) -> Path:
    """The running lab's kubeconfig (`<state dir>/kubeconfig`, the state dir being
    `$MESHDRILL_LAB_DIR` or `~/.meshdrill/lab`), found without importing the lab."""
    directory = state_dir or Path(
        os.environ.get("MESHDRILL_LAB_DIR") or Path.home() / ".meshdrill" / "lab"
    )
    state = directory.expanduser() / "state.json"
    try:
        path = Path(json.loads(state.read_text())["kubeconfig"])
    except (OSError, ValueError, KeyError):
        raise ReadError(
            f"--kubeconfig lab: no lab runs in {directory} "
            "(start one with: meshdrill lab up --detach)"
        ) from None
    if not path.is_file():
        raise ReadError(f"--kubeconfig lab: the lab's kubeconfig {path} is missing")
    return path


def kubeconfig_file(given: str | None) -> Path:
    """kubectl's choice: `given` (`lab` = the running lab), else $KUBECONFIG's first
    existing file, else ~/.kube/config."""
    if given == LAB:
        return lab_kubeconfig()
    try:
        return clusters.kubeconfig_path({"kubeconfig": given or ""})
    except clusters.ClusterError as exc:
        raise ReadError(str(exc)) from None


def _forbidden(context: str, verb: str, resource: str, exc: Exception) -> ReadError:
    return ReadError(
        f"context {context!r}: forbidden: cannot {verb} {resource} "
        f"(grant the verb '{verb}' on '{resource}'): {exc}"
    )


class _Reader:
    """One context's reads, each counted; errors name verb and resource."""

    def __init__(self, cluster: clusters.Cluster) -> None:
        self.cluster = cluster
        self.calls = 0

    def fetch(
        self, verb: str, resource: str, fn: Callable[..., Any], *args: Any, **kw: Any
    ) -> dict[str, Any]:
        self.calls += 1
        what = f"{verb} {resource}"
        try:
            response = clusters.call(
                self.cluster, what, fn, *args, _preload_content=False, **kw
            )
        except (clusters.NotFound, clusters.Expired):
            raise
        except clusters.ClusterError as exc:
            if "HTTP 403" in str(exc):
                raise _forbidden(self.cluster.context, verb, resource, exc) from None
            raise ReadError(str(exc)) from None
        data: dict[str, Any] = json.loads(response.data)
        return data

    def items(self, resource: str, fn: Callable[..., Any], *args: Any) -> list[Any]:
        """Every item of a list, `clusters.LIST_PAGE` at a time (`limit`,
        `_continue`), each page one call; read whole again if a token expires."""
        items: list[Any] = []
        token = None
        while True:
            try:
                page = self.fetch(
                    "list",
                    resource,
                    fn,
                    *args,
                    limit=clusters.LIST_PAGE,
                    _continue=token,
                )
            except clusters.Expired:
                return list(self.fetch("list", resource, fn, *args).get("items") or [])
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items


def _destination_rules(reader: _Reader) -> tuple[list[lookup.Rule], list[str]]:
    custom = reader.cluster.custom
    for version in DR_VERSIONS:
        try:
            items = reader.items(
                f"destinationrules.{DR_GROUP}",
                custom.list_cluster_custom_object,
                DR_GROUP,
                version,
                "destinationrules",
            )
        except clusters.NotFound:
            continue
        return [lookup.Rule.from_object(i) for i in items], []
    return [], [f"no {DR_GROUP} API: Istio is not installed (no DestinationRules)"]


def _mesh_locality_lb(reader: _Reader) -> tuple[Mapping[str, Any], list[str]]:
    default = dict(names.MESH_LOCALITY_LB_DEFAULT)
    try:
        config = reader.fetch(
            "get",
            f"configmaps/{MESH_CONFIGMAP} in {names.ROOT_NAMESPACE}",
            reader.cluster.core.read_namespaced_config_map,
            MESH_CONFIGMAP,
            names.ROOT_NAMESPACE,
        )
    except clusters.NotFound:
        return default, []
    except ReadError as exc:
        return default, [f"mesh config not read, Istio's default used: {exc}"]
    try:
        mesh = yaml.safe_load((config.get("data") or {}).get("mesh") or "") or {}
    except yaml.YAMLError as exc:
        return default, [f"configmap {MESH_CONFIGMAP}: mesh is not YAML: {exc}"]
    setting = mesh.get("localityLbSetting") if isinstance(mesh, dict) else None
    return (setting if isinstance(setting, dict) else default), []


def read_cluster(cluster: clusters.Cluster) -> tuple[ClusterObjects, int]:
    """Every object of one context the predictions need; (objects, API calls)."""
    reader = _Reader(cluster)
    core, apps = cluster.core, cluster.apps
    try:
        nodes = reader.items("nodes", core.list_node)
        namespaces = reader.items("namespaces", core.list_namespace)
        pods = reader.items("pods", core.list_pod_for_all_namespaces)
        services = reader.items("services", core.list_service_for_all_namespaces)
        deployments = reader.items(
            "deployments.apps", apps.list_deployment_for_all_namespaces
        )
    except clusters.NotFound as exc:
        raise ReadError(str(exc)) from None
    rules, notes = _destination_rules(reader)
    mesh_lb, more = _mesh_locality_lb(reader)
    objects = ClusterObjects(
        context=cluster.context,
        server=cluster.server,
        nodes={
            n["metadata"]["name"]: dict(n["metadata"].get("labels") or {})
            for n in nodes
        },
        namespaces={n["metadata"]["name"]: n for n in namespaces},
        pods=pods,
        services=services,
        deployments=deployments,
        rules=rules,
        mesh_locality_lb=mesh_lb,
        notes=[*notes, *more],
    )
    return objects, reader.calls


def read_mesh(kubeconfig: Path, contexts: Iterable[str] | None = None) -> MeshState:
    """Read every context of `kubeconfig` (or only `contexts`) once.

    ReadError names an unknown context (and those that exist), an unreachable API
    server, or a missing permission (verb and resource).
    """
    known = context_names(kubeconfig)
    wanted = list(contexts or known)
    for context in wanted:
        if context not in known:
            raise ReadError(
                f"context {context!r} is not in kubeconfig {kubeconfig} "
                f"(it has: {', '.join(known) or 'none'})"
            )
    configuration = {"kubeconfig": str(kubeconfig)}
    state = MeshState({})
    for context in wanted:
        try:
            with clusters.connect(context, configuration) as cluster:
                objects, calls = read_cluster(cluster)
        except clusters.ClusterError as exc:
            raise ReadError(str(exc)) from None
        state.clusters[context] = objects
        state.calls += calls
    return state


def context_names(kubeconfig: Path) -> list[str]:
    """The context names of a kubeconfig (ReadError when it cannot be read)."""
    try:
        return clusters.contexts_in(kubeconfig)
    except clusters.ClusterError as exc:
        raise ReadError(str(exc)) from None
