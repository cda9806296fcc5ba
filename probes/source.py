"""Where answers come from (an ingress URL or a client pod) and whose pods they are.

A probe's `source` argument is one of:
- `{"url": "http://34.1.2.3/", "host": "hello.example.com"}`: straight to a URL;
- `{"ingress": {"service": "istio-system/istio-ingressgateway", "context": "ctx"}}`:
  the URL of a LoadBalancer Service, read from the Kubernetes API as
  `kubectl get svc` shows it (`status.loadBalancer.ingress[0]` and its port);
  a non-empty `ingress.url` is used as is instead (for a DNS name or a port-forward);
- `{"exec": {"context": "ctx", "namespace": "httpbin", "pod": "deploy/client"},
  "url": "in-ambient.httpbin.mesh.internal:8000/hostname"}`: a `curl` loop run
  inside a client pod, one exec per batch, as `kubectl exec ... curl` does.
Common keys: `path` (default "/"), `extractor` (default "auto"), `timeout`
(seconds per request, default 2), `concurrency` (URL sources, default 8).

A probe's `workload` argument names the pods the answers must resolve to:
`{"contexts": ["cluster-a", "cluster-b"], "namespace": "default",
  "selector": "app=hello-world"}`.
"""

import contextlib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext import clusters
from chaosext.locality import LocalityResolver
from probes import exec_sampling, sampling

__all__ = ["CONCURRENCY", "Source", "concurrency", "resolver_for", "source_from"]

_COMMON = {"path", "extractor", "timeout", "concurrency", "host", "url"}
CONCURRENCY = 8
"""Requests in flight at once from a URL source unless `concurrency` says."""


def concurrency(spec: Mapping[str, Any]) -> int:
    """Requests a source keeps in flight at once: an exec source's one `curl`
    sends them one after another."""
    if "exec" in spec:
        return 1
    return int(spec.get("concurrency", CONCURRENCY))


@dataclass
class Source:
    """Takes samples of answers from one place.

    What a batch needs is looked up once per probe, not per batch: the URL (an
    ingress Service's address is read from the API once), and for an exec source
    the cluster connection and the client pod. `close()` releases them.

    `timed`: answers get their completion times to the exec's precision, for which
    an exec source measures the exec's fixed cost once (one more exec). A probe
    that judges counts only, not when answers came, passes False.
    """

    spec: Mapping[str, Any]
    configuration: Mapping[str, Any] | None
    secrets: Mapping[str, Any] | None
    timed: bool = True
    _url: str | None = field(default=None, init=False, repr=False)
    _exec: tuple[Any, str] | None = field(default=None, init=False, repr=False)
    _overhead: float | None = field(default=None, init=False, repr=False)
    _stack: contextlib.ExitStack = field(
        default_factory=contextlib.ExitStack, init=False, repr=False
    )

    def close(self) -> None:
        """Close the cached cluster connection, if any."""
        self._exec = None
        self._stack.close()
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def extractor(self) -> str:
        return str(self.spec.get("extractor", "auto"))

    @property
    def timeout(self) -> float:
        return float(self.spec.get("timeout", 2.0))

    def describe(self) -> str:
        if "exec" in self.spec:
            e = self.spec["exec"]
            return f"exec in {e.get('namespace')}/{e.get('pod')} ({e.get('context')})"
        if "ingress" in self.spec:
            i = self.spec["ingress"]
            if i.get("url"):
                return f"{i['url']} (ingress.url)"
            return f"ingress {i.get('service')} ({i.get('context')})"
        return str(self.spec.get("url"))

    def sample(self, count: int) -> sampling.Sample:
        """Take `count` samples; raises ActivityFailed when it cannot start."""
        if "exec" in self.spec:
            return self._sample_exec(count)
        url = self.url()
        try:
            return sampling.sample_http(
                url,
                count,
                concurrency=concurrency(self.spec),
                timeout=self.timeout,
                extractor=self.extractor,
                host=self.spec.get("host"),
            )
        except (sampling.SamplingError, ValueError) as exc:
            raise ActivityFailed(f"sampling {url}: {exc}") from exc

    def url(self) -> str:
        """The URL to sample (read from the API once per Source)."""
        if self._url is None:
            self._url = self._read_url()
        return self._url

    def _read_url(self) -> str:
        path = str(self.spec.get("path", "/"))
        if "ingress" in self.spec:
            ingress = self.spec["ingress"]
            if ingress.get("url"):  # a DNS name or a port-forward, used as is
                return str(ingress["url"]).rstrip("/") + path
            return _ingress_base(ingress, self.configuration, self.secrets) + path
        return str(self.spec["url"]).rstrip("/") + (path if path != "/" else "/")

    def _sample_exec(self, count: int) -> sampling.Sample:
        url = str(self.spec["url"])
        namespace = str(self.spec["exec"].get("namespace", "default"))
        timeout = exec_sampling.exec_timeout(count, self.timeout)
        for attempt in (1, 2):
            try:
                run = functools.partial(self._exec_target_run, namespace, timeout)
                if self.timed and self._overhead is None:  # once per probe
                    self._overhead = exec_sampling.exec_overhead(run, url, self.timeout)
                return exec_sampling.sample_exec(
                    run,
                    url,
                    count,
                    self.timeout,
                    self.extractor,
                    overhead=self._overhead,
                )
            except clusters.ClusterError as exc:
                self.close()  # the client pod may have been replaced: look again
                if attempt == 2:
                    raise ActivityFailed(
                        f"sampling from {self.describe()}: {exc}"
                    ) from exc
            except (sampling.SamplingError, ValueError) as exc:
                raise ActivityFailed(f"sampling from {self.describe()}: {exc}") from exc
        raise AssertionError("unreachable")

    def _exec_target_run(
        self, namespace: str, timeout: float, argv: list[str]
    ) -> tuple[str, str, int]:
        cluster, pod = self._exec_target()
        result: tuple[str, str, int] = cluster.exec(namespace, pod, argv, timeout)
        return result

    def _exec_target(self) -> tuple[Any, str]:
        """(connected cluster, client pod name), looked up on the first batch."""
        if self._exec is None:
            e = self.spec["exec"]
            namespace = str(e.get("namespace", "default"))
            cluster = self._stack.enter_context(
                clusters.connect(
                    str(e.get("context", "")), self.configuration, self.secrets
                )
            )
            pod = clusters.resolve_pod(cluster, namespace, str(e["pod"])).metadata.name
            self._exec = (cluster, pod)
        return self._exec


def source_from(
    spec: Mapping[str, Any] | None,
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
    *,
    timed: bool = True,
) -> Source:
    """Check a `source` argument and build its Source (`timed`: see Source);
    errors name the field."""
    if not isinstance(spec, Mapping):
        raise ActivityFailed("argument 'source' must be an object: see probes.source")
    # An exec source also carries the `url` to curl from inside the pod.
    kinds = ["exec"] if "exec" in spec else [k for k in ("url", "ingress") if k in spec]
    if ("exec" in spec and "ingress" in spec) or len(kinds) != 1:
        raise ActivityFailed(
            "argument 'source' needs exactly one of 'url', 'ingress' or 'exec'"
            f" (got {sorted(spec)})"
        )
    unknown = set(spec) - _COMMON - {"ingress", "exec"}
    if unknown:
        raise ActivityFailed(f"argument 'source' has unknown keys {sorted(unknown)}")
    if "exec" in spec:
        e = spec["exec"]
        if not isinstance(e, Mapping) or not e.get("pod") or "url" not in spec:
            raise ActivityFailed(
                "argument 'source.exec' needs 'pod' (and 'context', 'namespace'),"
                " and 'source.url' the URL to curl from that pod"
            )
    if "ingress" in spec:
        i = spec["ingress"]
        if not isinstance(i, Mapping) or "/" not in str(i.get("service", "")):
            raise ActivityFailed(
                "argument 'source.ingress.service' must be 'namespace/name'"
            )
    return Source(spec, configuration, secrets, timed=timed)


def resolver_for(
    workload: Mapping[str, Any] | None,
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
) -> LocalityResolver:
    """The resolver for a `workload` argument; errors name the field."""
    if not isinstance(workload, Mapping) or not workload.get("contexts"):
        raise ActivityFailed(
            "argument 'workload' needs 'contexts' (a list of kubeconfig contexts),"
            " 'namespace' and 'selector'"
        )
    contexts = workload["contexts"]
    if isinstance(contexts, str) or not all(isinstance(c, str) for c in contexts):
        raise ActivityFailed("argument 'workload.contexts' must be a list of names")
    return LocalityResolver(
        contexts,
        str(workload.get("namespace", "default")),
        str(workload.get("selector", "")),
        configuration=dict(configuration or {}),
        secrets=dict(secrets or {}),
    )


def _ingress_base(
    ingress: Mapping[str, Any],
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
) -> str:
    namespace, _, name = str(ingress["service"]).partition("/")
    what = f"service {namespace}/{name}"
    try:
        with clusters.connect(
            str(ingress.get("context", "")), configuration, secrets
        ) as cluster:
            svc = clusters.call(
                cluster, what, cluster.core.read_namespaced_service, name, namespace
            )
            where = cluster.describe()
    except clusters.ClusterError as exc:
        raise ActivityFailed(f"ingress: {exc}") from exc
    lb = (svc.status.load_balancer.ingress or []) if svc.status.load_balancer else []
    if not lb or not (lb[0].ip or lb[0].hostname):
        raise ActivityFailed(
            f"ingress: {what} in {where} has no load-balancer address yet"
            " (status.loadBalancer.ingress is empty); give source.url instead"
        )
    ports = svc.spec.ports or []
    port = next((p.port for p in ports if p.name in ("http", "http2")), None)
    port = port or (ports[0].port if ports else 80)
    return f"http://{lb[0].ip or lb[0].hostname}:{port}"
