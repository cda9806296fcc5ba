"""A kubeconfig is read once per version of the file, and every client is its own;
the client's parts a drill uses can be imported ahead of time.

A drill connects dozens of times; `chaosext.clusters` keeps what it read from a
kubeconfig until the file changes. These tests change the file under it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chaosext import clusters


def _write(path: Path, servers: dict[str, str]) -> None:
    """A kubeconfig with one context per (name, server); its mtime moves on."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": next(iter(servers)),
                "clusters": [
                    {"name": n, "cluster": {"server": s}} for n, s in servers.items()
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": n, "context": {"cluster": n, "user": "u"}} for n in servers
                ],
            }
        )
    )
    # a rewrite within the file system's timestamp granularity still counts
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_a_changed_kubeconfig_is_read_again(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    _write(kubeconfig, {"one": "http://127.0.0.1:1"})
    assert clusters.contexts_in(kubeconfig) == ["one"]
    _write(kubeconfig, {"one": "http://127.0.0.1:2", "two": "http://127.0.0.1:3"})
    assert clusters.contexts_in(kubeconfig) == ["one", "two"]
    with clusters.connect("one", {"kubeconfig": str(kubeconfig)}) as cluster:
        assert cluster.server == "http://127.0.0.1:2"


def test_every_connection_gets_a_configuration_of_its_own(tmp_path: Path) -> None:
    """Read once, but no two clients share a Configuration (threads may change one)."""
    kubeconfig = tmp_path / "kubeconfig"
    _write(kubeconfig, {"one": "http://127.0.0.1:1"})
    config = {"kubeconfig": str(kubeconfig)}
    with clusters.connect("one", config) as a, clusters.connect("one", config) as b:
        assert a.api_client.configuration is not b.api_client.configuration
        a.api_client.configuration.host = "http://elsewhere:1"
        assert b.server == "http://127.0.0.1:1"
    with clusters.connect("one", config) as c:
        assert c.api_client.configuration.host == "http://127.0.0.1:1"


def test_a_broken_kubeconfig_is_not_kept(tmp_path: Path) -> None:
    """A file that fails to parse fails every time until it is fixed."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("clusters: [unclosed\n")
    for _ in range(2):
        with pytest.raises(clusters.ClusterError, match="is not valid YAML"):
            clusters.contexts_in(kubeconfig)
    _write(kubeconfig, {"one": "http://127.0.0.1:1"})
    assert clusters.contexts_in(kubeconfig) == ["one"]
    kubeconfig.unlink()
    with pytest.raises(clusters.ClusterError, match="cannot be read"):
        clusters.contexts_in(kubeconfig)


def test_preload_imports_every_part_it_names() -> None:
    """`preload` swallows an ImportError (the part fails where it is used): a
    misspelt name would silently preload nothing. In a fresh interpreter, every
    part named is imported."""
    code = (
        "import sys; from chaosext import clusters; clusters.preload();"
        " missing = [m for m in clusters.PRELOADED if m not in sys.modules];"
        " print(missing); sys.exit(1 if missing else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
