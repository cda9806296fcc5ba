"""Kubeconfig contexts -> Kubernetes API clients, safely, for several clusters at once.

chaostoolkit-kubernetes loads the kubeconfig into the kubernetes client's
process-wide default configuration, so two contexts used from two threads race
(kubernetes-client/python#496). Here every `connect()` builds its own
`Configuration` and `ApiClient` (`new_client_from_config(..., persist_config=False)`)
and never touches the default, so any number of threads may talk to any number
of clusters. Streaming exec gets an ApiClient of its own as well, because
`stream()` swaps `call_api` on the client it is given (kubernetes-client/python#928).

The `kubernetes` package is imported on first use, not with this module: importing
it loads every generated model (about a second), which `meshdrill --help` and
commands that never talk to a cluster should not pay.

A drill connects dozens of times (every probe, batch source and action). The
kubeconfig is read once per version of the file (its path, inode, size and
modification time): its context names and each context's client `Configuration`
are kept, and every `connect()` gets a deep copy of that Configuration, so no two
clients share one. A changed file is read again; a bad one is never kept.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the kubernetes client imports ~280 model modules: only on use
    from kubernetes import client as k8s

__all__ = [
    "LAB",
    "Cluster",
    "ClusterError",
    "NotFound",
    "allowed_contexts",
    "call",
    "connect",
    "evict_pod",
    "kubeconfig_path",
    "list_pods",
    "preload",
    "resolve_pod",
]

LAB = "lab"
"""The `kubeconfig` configuration value that means: the embedded mesh lab."""

T = TypeVar("T")

CONNECTION_PREFIX = re.compile(
    r"^(?:<[^>]*>: |\w*HTTPS?Connection(?:Pool)?\([^)]*\): )+"
)
"""How urllib3 opens its messages: the connection object or pool, by host and port."""

REQUEST_TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds for every API call made through a Cluster."""


class ClusterError(Exception):
    """A cluster cannot be reached or named: the message says which and where."""


def kubeconfig_path(
    configuration: Mapping[str, Any] | None, secrets: Mapping[str, Any] | None = None
) -> Path:
    """The kubeconfig file an experiment targets.

    Configuration `kubeconfig` (or a secret `KUBECONFIG` inside `provider.secrets`)
    names it; empty means `$KUBECONFIG` (its first existing entry) or
    `~/.kube/config`. The value `lab` means the embedded lab, which the lab control
    replaces by the running lab's kubeconfig before any activity runs.
    """
    value = str((secrets or {}).get("KUBECONFIG") or "") or str(
        (configuration or {}).get("kubeconfig") or ""
    )
    if value == LAB:
        raise ClusterError(
            "configuration 'kubeconfig' is 'lab' but no lab was started for this run:"
            " declare the control chaosext.controls.drill in the experiment, or start"
            " one with `meshdrill lab up --detach`"
        )
    if value:
        path = Path(value).expanduser()
        if not path.is_file():
            raise ClusterError(
                f"kubeconfig {path} (configuration 'kubeconfig') is missing"
            )
        return path
    for entry in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if entry and Path(entry).expanduser().is_file():
            return Path(entry).expanduser()
    default = Path("~/.kube/config").expanduser()
    if not default.is_file():
        raise ClusterError(
            f"no kubeconfig: configuration 'kubeconfig' is empty, $KUBECONFIG names no"
            f" file and {default} is missing"
        )
    return default


def allowed_contexts(configuration: Mapping[str, Any] | None) -> list[str] | None:
    """Configuration `allowed_contexts` (a list, or comma-separated); None when unset.

    When set, no context outside it is ever connected to: the blast-radius guard.
    """
    value = (configuration or {}).get("allowed_contexts")
    if not value:  # None, "" or []: not set
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


@dataclass
class Cluster:
    """One kubeconfig context with its own API client; close it when done."""

    context: str
    kubeconfig: Path
    api_client: k8s.ApiClient
    server: str
    _closers: list[k8s.ApiClient] = field(default_factory=list)

    @property
    def core(self) -> k8s.CoreV1Api:
        from kubernetes import client

        return client.CoreV1Api(self.api_client)

    @property
    def apps(self) -> k8s.AppsV1Api:
        from kubernetes import client

        return client.AppsV1Api(self.api_client)

    @property
    def custom(self) -> k8s.CustomObjectsApi:
        from kubernetes import client

        return client.CustomObjectsApi(self.api_client)

    def describe(self) -> str:
        return f"context '{self.context}' ({self.server})"

    def exec(
        self, namespace: str, pod: str, argv: list[str], timeout: float
    ) -> tuple[str, str, int]:
        """Run `argv` in a pod as `kubectl exec` does; return (stdout, stderr, exit).

        Each exec gets its own ApiClient on this context's configuration (parsed
        once, at connect); an API refusal (e.g. the pod is gone) is a ClusterError.
        """
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream

        exec_client = client.ApiClient(configuration=self.api_client.configuration)
        self._closers.append(exec_client)
        what = f"exec in pod {namespace}/{pod}"
        try:
            resp = stream(
                client.CoreV1Api(exec_client).connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=argv,
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
                _request_timeout=timeout,
            )
        except ApiException as exc:
            raise ClusterError(
                f"{what} in {self.describe()}: HTTP {exc.status} {_status_message(exc)}"
            ) from exc
        out: list[str] = []
        err: list[str] = []
        try:
            resp.run_forever(timeout=timeout)
            out.append(resp.read_stdout() or "")
            err.append(resp.read_stderr() or "")
            code = resp.returncode
        finally:
            resp.close()
        return "".join(out), "".join(err), int(code if code is not None else -1)

    def close(self) -> None:
        for api in [self.api_client, *self._closers]:
            with contextlib.suppress(Exception):
                api.close()


_FileVersion = tuple[str, int, int, int]
_contexts: dict[_FileVersion, list[str]] = {}
_configurations: dict[tuple[_FileVersion, str], k8s.Configuration] = {}


PRELOADED = (
    "kubernetes.client.models",
    "kubernetes.client.api.core_v1_api",
    "kubernetes.client.api.apps_v1_api",
    "kubernetes.client.api.custom_objects_api",
    "kubernetes.client.api.authorization_v1_api",
    "kubernetes.client.api.policy_v1_api",
    "kubernetes.stream.ws_client",
)
"""What every drill's first API calls import (the client loads these lazily, all
its ~300 models at the first answer it reads): about half a second of CPU."""


def preload() -> None:
    """Import the kubernetes client's parts a drill uses (`PRELOADED`) now.

    For a process that has to wait anyway (for a lab to start) to do it then,
    in a thread, rather than on its first API calls. A part that will not import
    is left to fail where it is used."""
    import importlib

    for name in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _version(kubeconfig: Path) -> _FileVersion:
    """What identifies one version of a kubeconfig file (OSError if unreadable)."""
    st = kubeconfig.stat()
    return (str(kubeconfig.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


def _new_api_client(kubeconfig: Path, context: str) -> k8s.ApiClient:
    import urllib3
    from kubernetes import client as k8s
    from kubernetes.config import kube_config

    key = (_version(kubeconfig), context)
    configuration = _configurations.get(key)
    if configuration is None:
        configuration = type.__call__(k8s.Configuration)
        kube_config.load_kube_config(
            config_file=str(kubeconfig),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        configuration.retries = urllib3.Retry(total=1, connect=1, read=0, redirect=0)
        _configurations[key] = configuration
    return k8s.ApiClient(configuration=copy.deepcopy(configuration))


def _kubeconfig_errors() -> tuple[type[BaseException], ...]:
    """What the kubernetes client raises for a kubeconfig it cannot read or parse."""
    import yaml
    from kubernetes.config.config_exception import ConfigException

    return (ConfigException, OSError, yaml.YAMLError, LookupError, TypeError)


def _kubeconfig_error(kubeconfig: Path, exc: BaseException) -> ClusterError:
    """One line naming the kubeconfig and where it is wrong."""
    import yaml

    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "bad syntax"
        return ClusterError(
            f"kubeconfig {kubeconfig} is not valid YAML{where}: {problem}"
        )
    if isinstance(exc, OSError):
        return ClusterError(
            f"kubeconfig {kubeconfig} cannot be read: {exc.strerror or exc}"
        )
    detail = (
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    )
    return ClusterError(f"kubeconfig {kubeconfig} cannot be used: {detail}")


def contexts_in(kubeconfig: Path) -> list[str]:
    """The context names a kubeconfig file declares."""
    import yaml
    from kubernetes.config import kube_config

    errors = _kubeconfig_errors()
    reading: tuple[type[BaseException], ...] = (*errors, UnicodeDecodeError)
    try:
        version = _version(kubeconfig)
    except OSError as exc:
        raise _kubeconfig_error(kubeconfig, exc) from exc
    if version in _contexts:
        return list(_contexts[version])
    try:
        data = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
    except reading as exc:
        raise _kubeconfig_error(kubeconfig, exc) from exc
    if not isinstance(data, dict) or not isinstance(data.get("contexts"), list):
        raise ClusterError(
            f"kubeconfig {kubeconfig} is not a kubeconfig: expected a YAML mapping"
            " with a 'contexts' list"
        )
    try:
        listed, _active = kube_config.list_kube_config_contexts(str(kubeconfig))
        names = [str(c["name"]) for c in listed]
    except errors as exc:
        raise _kubeconfig_error(kubeconfig, exc) from exc
    _contexts[version] = names
    return list(names)


@contextlib.contextmanager
def connect(
    context: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> Iterator[Cluster]:
    """Connect to one kubeconfig context; the client is closed on exit.

    `context` may be empty when a secret `KUBERNETES_CONTEXT` names it.
    """
    context = context or str((secrets or {}).get("KUBERNETES_CONTEXT") or "")
    allowed = allowed_contexts(configuration)
    if allowed is not None and context not in allowed:
        raise ClusterError(
            f"blast-radius guard: context '{context}' is not in configuration"
            f" 'allowed_contexts' ({', '.join(allowed) or 'empty'}); nothing was done"
        )
    path = kubeconfig_path(configuration, secrets)
    known = contexts_in(path)
    if not context:
        raise ClusterError(
            f"no context given (argument 'context' or secret KUBERNETES_CONTEXT);"
            f" kubeconfig {path} has: {', '.join(known) or 'none'}"
        )
    if context not in known:
        raise ClusterError(
            f"context '{context}' is not in kubeconfig {path}"
            f" (it has: {', '.join(known) or 'none'})"
        )
    from kubernetes.config.config_exception import ConfigException

    errors = _kubeconfig_errors()
    try:
        api = _new_api_client(path, context)
    except ConfigException as exc:
        raise ClusterError(f"context '{context}' in {path}: {exc}") from exc
    except errors as exc:
        raise _kubeconfig_error(path, exc) from exc
    cluster = Cluster(context, path, api, api.configuration.host)
    try:
        yield cluster
    finally:
        cluster.close()


class NotFound(ClusterError):
    """The named object does not exist in that cluster."""


class Conflict(ClusterError):
    """HTTP 409: the object changed since it was read (a failed precondition)."""


class Expired(ClusterError):
    """HTTP 410: a list's continue token (or resourceVersion) is too old."""


def call(cluster: Cluster, what: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """Call one API method with the standard timeout; errors name `what` and where.

    `what` names the object, e.g. "deployment default/hello-world".
    """
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        return fn(*args, _request_timeout=REQUEST_TIMEOUT, **kw)
    except ApiException as exc:
        if exc.status == 404:
            raise NotFound(f"{what} not found in {cluster.describe()}") from exc
        if exc.status == 410:
            raise Expired(
                f"{what} in {cluster.describe()}: HTTP 410 {_status_message(exc)}"
            ) from exc
        if exc.status == 409:
            raise Conflict(
                f"{what} in {cluster.describe()}: HTTP 409 {_status_message(exc)}"
            ) from exc
        raise ClusterError(
            f"{what} in {cluster.describe()}: HTTP {exc.status} {_status_message(exc)}"
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ClusterError(
            f"API server of {cluster.describe()} did not answer ({what}):"
            f" {_network_error(exc)}"
        ) from exc


def _network_error(exc: Exception) -> str:
    """urllib3's error without its pool and URL (already named): the cause alone.

    "HTTPSConnectionPool(host=..., port=...): Max retries exceeded with url: ...
    (Caused by NewConnectionError(...: Failed to establish a new connection:
    [Errno 111] Connection refused))" becomes "Failed to establish a new
    connection: [Errno 111] Connection refused".
    """
    cause = getattr(exc, "reason", None) or exc
    return CONNECTION_PREFIX.sub("", str(cause)) or type(cause).__name__


def evict_pod(cluster: Cluster, namespace: str, name: str) -> None:
    """Evict one pod through the Eviction API (PodDisruptionBudgets apply: a budget
    that allows no disruption now answers 429, raised as ClusterError)."""
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    }
    call(
        cluster,
        f"pod {namespace}/{name}",
        cluster.core.create_namespaced_pod_eviction,
        name,
        namespace,
        body,
    )


LIST_PAGE = 500
"""Items a list asks for at a time (`limit`): kubectl's and client-go's pager's."""


def list_items(
    cluster: Cluster, what: str, fn: Callable[..., Any], *args: Any, **kw: Any
) -> list[Any]:
    """Every item of a list call, read `LIST_PAGE` at a time (`limit` and
    `_continue`) as client-go's pager reads: a big cluster's list costs its API
    server one page at a time. When the token expires between pages (410), the
    list is read again whole, as the pager's fallback does."""
    items: list[Any] = []
    token = None
    while True:
        try:
            page = call(
                cluster, what, fn, *args, limit=LIST_PAGE, _continue=token, **kw
            )
        except Expired:
            return list(call(cluster, what, fn, *args, **kw).items or [])
        items.extend(page.items or [])
        token = page.metadata._continue
        if not token:
            return items


def list_pods(cluster: Cluster, namespace: str, selector: str = "") -> list[Any]:
    """The live (not terminating) pods of `selector` in `namespace`, by name."""
    pods = list_items(
        cluster,
        f"pods '{selector}' in namespace {namespace}",
        cluster.core.list_namespaced_pod,
        namespace,
        label_selector=selector,
    )
    live = [p for p in pods if not p.metadata.deletion_timestamp]
    return sorted(live, key=lambda p: p.metadata.name)


def resolve_pod(cluster: Cluster, namespace: str, ref: str) -> Any:
    """The pod `ref` names, as kubectl reads it: `NAME`, `pod/NAME` or `deploy/NAME`.

    For a Deployment, the first running pod of its selector, in name order.
    """
    kind, _, name = ref.rpartition("/")
    if kind in ("", "pod", "pods", "po"):
        return call(
            cluster,
            f"pod {namespace}/{name}",
            cluster.core.read_namespaced_pod,
            name,
            namespace,
        )
    if kind not in ("deploy", "deployment", "deployments"):
        raise ClusterError(f"pod reference '{ref}': use NAME or deploy/NAME")
    what = f"deployment {namespace}/{name}"
    dep = call(cluster, what, cluster.apps.read_namespaced_deployment, name, namespace)
    selector = ",".join(
        f"{k}={v}" for k, v in sorted((dep.spec.selector.match_labels or {}).items())
    )
    pods = list_items(
        cluster,
        f"pods of {what}",
        cluster.core.list_namespaced_pod,
        namespace,
        label_selector=selector,
    )
    running = sorted(
        (p for p in pods if p.status and p.status.phase == "Running"),
        key=lambda p: p.metadata.name,
    )
    if not running:
        raise NotFound(f"{what} has no running pod in {cluster.describe()}")
    return running[0]


def _status_message(exc: Any) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)
