"""OpenAPI documents: `/openapi/v2` (Swagger 2.0) and `/openapi/v3` with one
document per group-version, each schema carrying its
`x-kubernetes-group-version-kind`, so `kubectl explain deployment.spec.replicas`
works and kubectl sees that the server validates fields (`fieldValidation` on
each kind's PATCH) and so skips client-side validation.

Built-in kinds take their schemas from the Kubernetes 1.32 definitions that
kubernetes-validate ships (with the patch strategies and merge keys kubectl's
apply reads); the Istio and Gateway API kinds get object schemas built from the
field trees of `crdschemas`.
"""

import functools
import hashlib
import importlib.resources
import json
from typing import Any

from chaosext.lab import crdschemas, kinds
from chaosext.lab.objects import KUBE_VERSION

DEFINITIONS = "kubernetes-json-schema/v1.32.0-local/_definitions.json"
CRD_PREFIX = {
    "networking.istio.io": "io.istio.networking",
    "gateway.networking.k8s.io": "io.k8s.networking.gateway",
    "telemetry.istio.io": "io.istio.telemetry",
}


@functools.cache
def _definitions() -> dict[str, Any]:
    files = importlib.resources.files("kubernetes_validate")
    data: dict[str, Any] = json.loads(files.joinpath(DEFINITIONS).read_text())
    return dict(data["$defs"])


def _convert(value: Any, ref_base: str) -> Any:
    """A JSON Schema 2020 fragment as OpenAPI: one type, refs to `ref_base`."""
    if isinstance(value, list):
        return [_convert(v, ref_base) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, inner in value.items():
        if key == "$ref":
            out[key] = ref_base + inner.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(inner, list):
            types = [t for t in inner if t != "null"]
            if types:
                out[key] = types[0]
        elif key == "enum":
            continue  # apiVersion/kind enums: not in the API server's documents
        else:
            out[key] = _convert(inner, ref_base)
    return out


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"].rsplit("/", 1)[-1]} if "$ref" in value else set()
        for inner in value.values():
            found |= _refs(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _closure(names: set[str]) -> dict[str, Any]:
    defs = _definitions()
    todo, seen = list(names), {}
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = defs[name]
        todo += _refs(defs[name])
    return seen


def _builtin_names(kind: kinds.Kind, version: str) -> list[str]:
    return [
        name
        for name, schema in _definitions().items()
        if {"group": kind.group, "version": version, "kind": kind.kind}
        in schema.get("x-kubernetes-group-version-kind", [])
    ]


def _tree_schema(tree: Any) -> dict[str, Any]:
    if tree is crdschemas.ANY:
        return {"x-kubernetes-preserve-unknown-fields": True}
    if isinstance(tree, list):
        return {"type": "array", "items": _tree_schema(tree[0])}
    return {
        "type": "object",
        "properties": {k: _tree_schema(v) for k, v in tree.items()},
    }


def _crd_schema(kind: kinds.Kind, version: str) -> tuple[str, dict[str, Any]]:
    name = f"{CRD_PREFIX[kind.group]}.{version}.{kind.kind}"
    meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    tree = crdschemas.SPECS[(kind.group, kind.kind)]
    schema = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": f"#/$defs/{meta}"},
            "spec": _tree_schema(tree),
            "status": {"x-kubernetes-preserve-unknown-fields": True},
        },
        "x-kubernetes-group-version-kind": [
            {"group": kind.group, "version": version, "kind": kind.kind}
        ],
    }
    return name, schema


def schemas(group: str, version: str) -> dict[str, Any]:
    """Every schema a group-version's kinds use (JSON Schema form)."""
    names: set[str] = set()
    extra: dict[str, Any] = {}
    for kind in kinds.served(group, version):
        if (kind.group, kind.kind) in crdschemas.SPECS:
            name, schema = _crd_schema(kind, version)
            extra[name] = schema
            names |= _refs(schema)
        else:
            names |= set(_builtin_names(kind, version))
    return _closure(names) | extra


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


def _paths(group: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for kind in kinds.served(group, version):
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
                        "description": "Strict, Warn (the default) or Ignore",
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
    return paths


def group_version(parts: list[str]) -> dict[str, Any] | None:
    """`GET /openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`."""
    if parts[:1] == ["api"] and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[:1] == ["apis"] and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        return None
    if not kinds.served(group, version):
        return None
    return _v3(group, version)


@functools.cache
def _v3(group: str, version: str) -> dict[str, Any]:
    found = _convert(schemas(group, version), "#/components/schemas/")
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (meshdrill lab)", "version": KUBE_VERSION},
        "paths": _paths(group, version),
        "components": {"schemas": found},
    }


@functools.cache
def swagger() -> dict[str, Any]:
    """`GET /openapi/v2`: every definition of every served group-version."""
    definitions: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for group, version in {(k.group, v) for k in kinds.KINDS for v in k.versions}:
        definitions |= schemas(group, version)
        paths |= _paths(group, version)
    for operations in paths.values():
        for parameter in operations["patch"]["parameters"]:
            parameter["type"] = parameter.pop("schema")["type"]
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes (meshdrill lab)", "version": KUBE_VERSION},
        "paths": paths,
        "definitions": _convert(definitions, "#/definitions/"),
    }
