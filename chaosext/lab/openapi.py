"""A minimal OpenAPI v3 discovery: enough for `kubectl apply` to see that the server
validates fields itself (`fieldValidation` on each kind's PATCH), so it skips its
client-side schema validation, which would need the full OpenAPI v2 document.

The documents carry no schemas: kubectl then computes strategic merge patches from
its built-in types, and JSON merge patches for the Istio kinds.
"""

import hashlib
from typing import Any

from chaosext.lab import kinds
from chaosext.lab.objects import KUBE_VERSION


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _hash(group: str, version: str) -> str:
    return hashlib.sha256(f"{KUBE_VERSION}/{group}/{version}".encode()).hexdigest()[:16]


def root() -> dict[str, Any]:
    """`GET /openapi/v3`: where each group-version's document is."""
    paths = {}
    for kind in kinds.KINDS:
        for version in kind.versions:
            path = _gv_path(kind.group, version)
            digest = _hash(kind.group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def group_version(parts: list[str]) -> dict[str, Any] | None:
    """`GET /openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`."""
    if parts[:1] == ["api"] and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[:1] == ["apis"] and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        return None
    served = kinds.served(group, version)
    if not served:
        return None
    paths: dict[str, Any] = {}
    for kind in served:
        prefix = "/" + _gv_path(group, version)
        if kind.namespaced:
            prefix += "/namespaces/{namespace}"
        paths[f"{prefix}/{kind.plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{kind.kind}",
                "parameters": [
                    {
                        "name": "fieldValidation",
                        "in": "query",
                        "description": "Strict, Warn or Ignore (the lab accepts all)",
                        "schema": {"type": "string", "uniqueItems": True},
                    }
                ],
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": group,
                    "version": version,
                    "kind": kind.kind,
                },
            },
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (meshdrill lab)", "version": KUBE_VERSION},
        "paths": paths,
        "components": {},
    }
