"""The lab's kubeconfig: one context per cluster (context name == cluster name),
HTTPS to 127.0.0.1 with the lab's CA, one bearer token; written atomically with
mode 0600."""

import base64
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

USER = "meshdrill-lab"


def render(
    clusters: Mapping[str, str], token: str, ca_pem: bytes | None = None
) -> dict[str, Any]:
    """The kubeconfig document for cluster name -> API URL (CA for https URLs)."""
    names = list(clusters)
    server: dict[str, dict[str, str]] = {}
    for name, url in clusters.items():
        server[name] = {"server": url}
        if ca_pem is not None:
            server[name]["certificate-authority-data"] = base64.b64encode(
                ca_pem
            ).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": server[name]} for name in names],
        "users": [{"name": USER, "user": {"token": token}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": USER, "namespace": "default"},
            }
            for name in names
        ],
        "current-context": names[0] if names else "",
    }


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(
    path: Path, clusters: Mapping[str, str], token: str, ca_pem: bytes | None = None
) -> Path:
    document = render(clusters, token, ca_pem)
    write_private(path, yaml.safe_dump(document, sort_keys=False))
    return path
