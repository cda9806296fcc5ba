"""The three patch formats the Kubernetes API accepts: JSON merge patch (RFC 7386),
JSON patch (RFC 6902) and strategic merge patch (lists merged by key).

The strategic merge keys are taken from the field names Kubernetes declares them on
(containers by `name`, conditions by `type`, ...), which covers what kubectl and the
python client send; directives `$patch`, `$setElementOrder/...`, `$retainKeys` and
`$deleteFromPrimitiveList/...` are honoured or dropped as the real server does.
"""

import copy
from typing import Any

from chaosext.lab.errors import ApiError

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# field name -> merge key (lists of maps merged element-wise by that key)
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "conditions": "type",
    "ownerReferences": "uid",
    "taints": "key",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "podIPs": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# primitive lists merged as sets
SET_LISTS = {"finalizers"}


def apply(content_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply a patch of the given content type; ApiError on a bad or unknown patch."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == MERGE_PATCH:
        _need_object(patch)
        return merge_patch(target, patch)
    if kind == STRATEGIC_PATCH:
        _need_object(patch)
        return strategic_merge(target, patch)
    if kind == JSON_PATCH:
        if not isinstance(patch, list):
            raise ApiError.bad_request("a JSON patch must be a list of operations")
        return json_patch(target, patch)
    if kind == APPLY_PATCH:
        raise ApiError(
            415, "server-side apply is not supported by the lab; use client-side apply"
        )
    raise ApiError(415, f"the media type {kind!r} is not a supported patch type")


def _need_object(patch: Any) -> None:
    if not isinstance(patch, dict):
        raise ApiError.bad_request("a merge patch must be a JSON object")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch of `patch` onto `target` (a copy is returned)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value, result)
        else:
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def merge_key(field: str, parent: Any) -> str | None:
    """The key a strategic merge patch merges the list `field` of `parent` by."""
    if field == "ports":
        is_container = isinstance(parent, dict) and "image" in parent
        return "containerPort" if is_container else "port"
    return MERGE_KEYS.get(field)


def _merge_list(field: str, current: Any, patch: list[Any], parent: Any) -> list[Any]:
    current = list(current) if isinstance(current, list) else []
    if field in SET_LISTS:
        return current + [v for v in patch if v not in current]
    key = merge_key(field, parent)
    if key is None or not all(isinstance(item, dict) for item in patch):
        return [item for item in copy.deepcopy(patch) if item != {"$patch": "replace"}]
    if any(item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if i.get("$patch") != "replace"]
    result = [copy.deepcopy(i) for i in current]
    for item in patch:
        wanted = item.get(key)
        index = next(
            (i for i, old in enumerate(result) if old.get(key) == wanted), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError.bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise ApiError(422, f"JSON patch: path {path!r} does not exist")
    return doc


def _add(doc: Any, parts: list[str], value: Any, path: str) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise ApiError(422, f"JSON patch: bad array index in {path!r}")
        parent.insert(index, value)
    else:
        raise ApiError(422, f"JSON patch: cannot add at {path!r}")
    return doc


def _remove(doc: Any, parts: list[str], path: str) -> Any:
    if not parts:
        raise ApiError(422, "JSON patch: cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    value = _walk(parent, parts[-1:], path)
    if isinstance(parent, dict):
        del parent[parts[-1]]
    else:
        del parent[int(parts[-1])]
    return value


def json_patch(target: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """RFC 6902 operations add, remove, replace, move, copy, test."""
    doc: Any = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ApiError.bad_request(f"invalid JSON patch operation {op!r}")
        path = op["path"]
        parts = _pointer(path)
        name = op["op"]
        if name == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif name == "remove":
            _remove(doc, parts, path)
        elif name == "replace":
            _walk(doc, parts, path)
            if parts:
                _remove(doc, parts, path)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif name in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = copy.deepcopy(_walk(doc, source, op.get("from", "")))
            if name == "move":
                _remove(doc, source, op.get("from", ""))
            doc = _add(doc, parts, value, path)
        elif name == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise ApiError(422, f"JSON patch: test failed at {path!r}")
        else:
            raise ApiError.bad_request(f"unknown JSON patch operation {name!r}")
    if not isinstance(doc, dict):
        raise ApiError(422, "JSON patch: the result is not an object")
    return doc
