"""Pytest fixtures for tests that need a running lab (registered in tests/conftest.py).

- `lab000`: a guide-000 lab with fast timing, shared by the whole session. Tests that
  change it must put it back (or use `start_lab_from`).
- `start_lab_from(topology)`: start a lab from a topology dict, a YAML path or a
  shipped name (fast timing unless the topology sets its own); stopped at teardown.
- helpers: `topology_dict`, `wait_for`, `api_client`, `gateway_url`, `kubectl_env`.
"""

import contextlib
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import yaml
from kubernetes import client, config

from chaosext.lab import runtime, topology

FAST_TIMING = {"ready_after": 0.2, "propagation": 0.3, "terminate_after": 0.1}
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

T = TypeVar("T")


def topology_dict(name: str = "guide-000", **timing: float) -> dict[str, Any]:
    """A shipped topology as a dict, with fast timing (overridable per knob)."""
    data: dict[str, Any] = yaml.safe_load(topology.resolve(name).read_text())
    data["timing"] = FAST_TIMING | timing
    return data


def write_topology(data: dict[str, Any], directory: Path) -> Path:
    path = directory / f"{data.get('name', 'lab')}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def wait_for(
    condition: Callable[[], T | None],
    timeout: float = 10.0,
    message: str = "condition",
    interval: float = 0.05,
) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} ({last!r})")


def api_client(info: runtime.LabInfo, context: str) -> client.ApiClient:
    """A kubernetes ApiClient for one lab cluster, from the lab's kubeconfig."""
    return config.new_client_from_config(
        str(info.kubeconfig), context=context, persist_config=False
    )


# The client's models type every field Optional; tests read them as Any.
def core(info: runtime.LabInfo, context: str = "cluster-a") -> Any:
    """CoreV1Api for one lab cluster."""
    return client.CoreV1Api(api_client(info, context))


def apps(info: runtime.LabInfo, context: str = "cluster-a") -> Any:
    """AppsV1Api for one lab cluster."""
    return client.AppsV1Api(api_client(info, context))


def custom(info: runtime.LabInfo, context: str = "cluster-a") -> Any:
    """CustomObjectsApi for one lab cluster."""
    return client.CustomObjectsApi(api_client(info, context))


def gateway_url(
    info: runtime.LabInfo,
    context: str = "cluster-a",
    namespace: str = "istio-system",
    name: str = "istio-ingressgateway",
) -> str:
    """The ingress URL, resolved from the LoadBalancer Service as on a real cluster."""
    svc = core(info, context).read_namespaced_service(name, namespace)
    ingress = svc.status.load_balancer.ingress[0]
    return f"http://{ingress.ip}:{svc.spec.ports[0].port}"


def sample(url: str, count: int) -> Counter[str]:
    """Hostnames (or `status NNN`) answered to `count` GET /hostname requests."""
    seen: Counter[str] = Counter()
    with requests.Session() as session:
        for _ in range(count):
            response = session.get(f"{url}/hostname", timeout=10)
            seen[
                response.text if response.ok else f"status {response.status_code}"
            ] += 1
    return seen


def kubectl_env(info: runtime.LabInfo, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["KUBECONFIG"] = str(info.kubeconfig)
    env["KUBECACHEDIR"] = str(cache)
    return env


def kubectl(
    info: runtime.LabInfo, cache: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run kubectl from PATH against the lab."""
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--request-timeout=20s", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=kubectl_env(info, cache),
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kubectl {' '.join(args)} exited {result.returncode}: {result.stderr}"
        )
    return result


def _start(source: dict[str, Any] | str | Path, directory: Path) -> runtime.LabInfo:
    if isinstance(source, dict):
        path = write_topology(source, directory)
    else:
        path = Path(source) if Path(source).is_file() else topology.resolve(str(source))
        data = yaml.safe_load(path.read_text())
        if "timing" not in data:
            data["timing"] = FAST_TIMING
            path = write_topology(data, directory)
    return runtime.start_lab(str(path), directory / "state", timeout=30.0)


def _ready(info: runtime.LabInfo) -> bool:
    """Every Deployment of every cluster has all its replicas ready."""
    for context in info.clusters:
        for deploy in apps(info, context).list_deployment_for_all_namespaces().items:
            if (deploy.status.ready_replicas or 0) != deploy.spec.replicas:
                return False
    return True


@pytest.fixture(scope="session")
def lab000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    """A guide-000 lab with fast timing, for the whole session."""
    directory = tmp_path_factory.mktemp("lab000")
    info = _start(topology_dict(), directory)
    try:
        wait_for(lambda: _ready(info), 15, "guide-000 pods ready")
        url = gateway_url(info)
        wait_for(lambda: len(sample(url, 40)) == 4, 15, "the gateway reaching 4 pods")
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


@contextlib.contextmanager
def running_lab(data: dict[str, Any], directory: Path) -> Iterator[runtime.LabInfo]:
    """A lab of topology `data` in `directory`, stopped on exit (for a module's
    own lab: `with running_lab(topology_dict(), tmp) as info: yield info`)."""
    info = runtime.start_lab(str(write_topology(data, directory)), directory / "state")
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


@pytest.fixture(scope="module")
def kubectl_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubectl's discovery cache, shared by one module's calls."""
    return tmp_path_factory.mktemp("kubectl-cache")


@pytest.fixture
def start_lab_from(
    tmp_path: Path,
) -> Iterator[Callable[[dict[str, Any] | str | Path], runtime.LabInfo]]:
    """Factory: start a lab from a topology (dict, path or shipped name), pods ready."""
    started: list[runtime.LabInfo] = []

    def start(source: dict[str, Any] | str | Path) -> runtime.LabInfo:
        directory = tmp_path / f"lab{len(started)}"
        directory.mkdir()
        info = _start(source, directory)
        started.append(info)
        wait_for(lambda: _ready(info), 15, "pods ready")
        return info

    yield start
    for info in started:
        runtime.stop_lab(info.state_dir)
