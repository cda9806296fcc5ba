"""Server-side field validation: `?fieldValidation=Strict|Warn|Ignore`.

Unknown fields in a create, update or patch body are an error under Strict (400,
`strict decoding error: unknown field "spec.x"`), a `Warning: 299` header each
under Warn (the default when the parameter is absent, as since Kubernetes 1.25),
and nothing under Ignore. Built-in kinds are checked against the Kubernetes 1.32
JSON schemas that kubernetes-validate ships; the Istio and Gateway API kinds
against `crdschemas`.
"""

import functools
import importlib.resources
import json
from typing import Any

import jsonschema
from aiohttp import web
from referencing import Registry, Resource

from chaosext.lab import crdschemas, kinds
from chaosext.lab.errors import ApiError

SCHEMAS = "kubernetes-json-schema/v1.32.0-local-strict"
MODES = ("Strict", "Warn", "Ignore")
_OBJECT_META = (
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
    "finalizers", "managedFields",
)  # fmt: skip


def _load(name: str) -> Any:
    files = importlib.resources.files("kubernetes_validate")
    return json.loads(files.joinpath(f"{SCHEMAS}/{name}").read_text())


@functools.cache
def _validator(filename: str) -> jsonschema.protocols.Validator | None:
    try:
        schema = _load(filename)
    except FileNotFoundError:
        return None
    registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_load("_definitions.json")) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _schema_file(kind: kinds.Kind, version: str) -> str:
    prefix = kind.group.split(".")[0] + "-" if kind.group else ""
    return f"{kind.kind.lower()}-{prefix}{version}.json"


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _extras(error: jsonschema.ValidationError) -> list[str]:
    found = []
    for sub in [error, *error.context]:
        if sub.validator == "additionalProperties" and isinstance(sub.instance, dict):
            known = set((sub.schema.get("properties") or {}).keys())
            base = _path(sub.absolute_path)
            found += [
                f"{base}.{key}" if base else key
                for key in sub.instance
                if key not in known
            ]
    return found


def _without_directives(value: Any) -> Any:
    """A strategic merge patch without its `$patch`-style directives."""
    if isinstance(value, dict):
        return {
            k: _without_directives(v) for k, v in value.items() if not k.startswith("$")
        }
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return value


def unknown_fields(kind: kinds.Kind, version: str, obj: Any) -> list[str]:
    """The dotted paths of the fields `kind` does not have, in `obj`."""
    obj = _without_directives(obj)
    if not isinstance(obj, dict):
        return []
    tree = crdschemas.SPECS.get((kind.group, kind.kind))
    if tree is not None:
        top = {
            "apiVersion": None,
            "kind": None,
            "metadata": dict.fromkeys(_OBJECT_META),
            "spec": tree,
            "status": None,
        }
        return crdschemas.unknown_fields(top, obj, "")
    validator = _validator(_schema_file(kind, version))
    if validator is None:
        return []
    found: set[str] = set()
    for error in validator.iter_errors(obj):
        found.update(_extras(error))
    return [path for path in _paths(obj, "") if path in found]


def _paths(value: Any, base: str) -> list[str]:
    """Every field path of `value`, in document order (as a decoder meets them)."""
    out = []
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{base}.{key}" if base else key
            out += [where, *_paths(inner, where)]
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out += _paths(inner, f"{base}[{i}]")
    return out


def check(request: web.Request, kind: kinds.Kind, version: str, obj: Any) -> list[str]:
    """Apply the request's fieldValidation; returns the warnings to send."""
    mode = request.query.get("fieldValidation", "Warn") or "Warn"
    if mode not in MODES:
        raise ApiError.bad_request(
            f'fieldValidation must be one of "Ignore", "Warn", "Strict", not "{mode}"'
        )
    if mode == "Ignore":
        return []
    unknown = unknown_fields(kind, version, obj)
    if not unknown:
        return []
    if mode == "Strict":
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise ApiError.bad_request(
            f'{kind.kind} in version "{version}" cannot be handled as a '
            f"{kind.kind}: strict decoding error: {listed}"
        )
    return [f'unknown field "{path}"' for path in unknown]


def warn(response: web.StreamResponse, warnings: list[str]) -> web.StreamResponse:
    """Add one `Warning: 299 - "..."` header per warning."""
    for text in warnings:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response
