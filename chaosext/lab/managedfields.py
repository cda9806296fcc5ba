"""Field managers and server-side apply (`application/apply-patch+yaml`).

Each write records which manager set which fields in `metadata.managedFields`
(FieldsV1: `f:<field>` for map keys, `k:{"name":"x"}` for list items merged by
key, atomic lists as leaves), as the API server does:
- an update (create, PUT, non-apply PATCH) gives the fields it changed to its
  manager (`?fieldManager=`, else the User-Agent's product, e.g. `kubectl`);
- an apply merges the applied configuration into the object; a field it sets
  to another value than the one live, owned by another manager, is a 409
  Conflict listing each field (`Apply failed with 1 conflict: conflict with
  "kubectl-scale" using apps/v1: .spec.replicas`) unless `?force=true`, which
  takes the field over; fields the manager applied before and no longer applies
  are removed unless another manager owns them.
"""

import copy
import json
from typing import Any

import yaml

from chaosext.lab import patching
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj, timestamp

Path = tuple[str, ...]
SKIP = {"apiVersion", "kind", "status"}
SKIP_META = {"name", "namespace", "uid", "resourceVersion", "generation",
             "creationTimestamp", "managedFields", "deletionTimestamp"}  # fmt: skip


def manager_of(query: Any, user_agent: str) -> str:
    return str(query.get("fieldManager") or user_agent.split("/", 1)[0] or "unknown")


def _key_of(field: str, parent: Any, item: Any, crd: bool) -> str | None:
    if crd:  # custom resources' lists are atomic (no list-map keys declared)
        return None
    key = patching.merge_key(field, parent)  # the strategic merge keys
    if key is None or not isinstance(item, dict) or key not in item:
        return None
    return "k:" + json.dumps({key: item[key]}, separators=(",", ":"))


def leaves(obj: Any, crd: bool = False, base: Path = ()) -> dict[Path, Any]:
    """Every leaf field of `obj` (path -> value), in FieldsV1 path elements."""
    out: dict[Path, Any] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not base and key in SKIP:
                continue
            if base == ("f:metadata",) and key in SKIP_META:
                continue
            path = (*base, f"f:{key}")
            if isinstance(value, dict) and value:
                out |= leaves(value, crd, path)
            elif (
                isinstance(value, list)
                and value
                and all(_key_of(key, obj, item, crd) for item in value)
            ):
                for item in value:
                    item_path = (*path, str(_key_of(key, obj, item, crd)))
                    out[(*item_path, ".")] = None
                    out |= leaves(item, crd, item_path)
            else:
                out[path] = value
    return out


def _fields_v1(paths: list[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path:
            node = node.setdefault(part, {})
    return tree


def _paths(tree: dict[str, Any], base: Path = ()) -> list[Path]:
    out = []
    for key, inner in tree.items():
        path = (*base, key)
        out += _paths(inner, path) if inner else [path]
    return out


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        if part == ".":
            continue
        text += f".{part[2:]}" if part.startswith("f:") else f"[{part[2:]}]"
    return text


def _entries(obj: Obj) -> list[dict[str, Any]]:
    return list(obj.get("metadata", {}).get("managedFields") or [])


def _owned(entry: dict[str, Any]) -> set[Path]:
    return set(_paths(entry.get("fieldsV1") or {}))


def _set_entries(obj: Obj, entries: list[dict[str, Any]]) -> None:
    kept = [e for e in entries if e.get("fieldsV1")]
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _record(
    obj: Obj, manager: str, operation: str, api_version: str, paths: set[Path]
) -> None:
    entries = []
    mine: set[Path] = set(paths)
    for entry in _entries(obj):
        if (entry.get("manager"), entry.get("operation")) == (manager, operation):
            if operation == "Update":
                mine |= _owned(entry)
            continue
        if operation == "Update":  # an update takes the fields it changed
            rest = _owned(entry) - paths
            entry = entry | {"fieldsV1": _fields_v1(sorted(rest))}
        entries.append(entry)
    entries.append(
        {
            "manager": manager,
            "operation": operation,
            "apiVersion": api_version,
            "time": timestamp(),
            "fieldsType": "FieldsV1",
            "fieldsV1": _fields_v1(sorted(mine)),
        }
    )
    _set_entries(obj, entries)


def record_update(
    old: Obj | None, new: Obj, manager: str, api_version: str, crd: bool
) -> None:
    """Give the fields that differ between `old` and `new` to `manager`."""
    if old is not None and "managedFields" not in new.get("metadata", {}):
        new["metadata"]["managedFields"] = copy.deepcopy(_entries(old))
    before = leaves(old or {}, crd)
    now = leaves(new, crd)
    changed = {p for p, v in now.items() if p not in before or before[p] != v}
    if changed or old is None:
        _record(new, manager, "Update", api_version, changed)


def read_config(raw: bytes) -> Obj:
    try:
        config = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ApiError.bad_request(f"error decoding YAML: {exc}") from exc
    if not isinstance(config, dict):
        raise ApiError.bad_request("an apply patch must be an object")
    return config


def apply(
    live: Obj | None,
    config: Obj,
    manager: str,
    api_version: str,
    *,
    force: bool,
    crd: bool,
) -> Obj:
    """`live` (None: a create) with `config` applied by `manager`."""
    wanted = leaves(config, crd)
    base = copy.deepcopy(live) if live is not None else {}
    current = leaves(base, crd)
    conflicts: list[tuple[str, Path]] = []
    entries = _entries(base)
    for entry in entries:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            continue
        for path in _owned(entry) & wanted.keys():
            if path in current and current[path] != wanted[path]:
                conflicts.append((str(entry.get("manager")), path))
    if conflicts and not force:
        raise _conflict(conflicts, api_version)
    previous = next(
        (
            _owned(e)
            for e in entries
            if e.get("manager") == manager and e.get("operation") == "Apply"
        ),
        set(),
    )
    others = set().union(*(_owned(e) for e in entries if e.get("manager") != manager))
    merge = patching.merge_patch if crd else patching.strategic_merge
    merged = merge(base, config)
    for path in sorted(previous - wanted.keys() - others, key=len, reverse=True):
        _remove(merged, path)
    if force:
        taken = {path for _, path in conflicts}
        for entry in entries:
            entry["fieldsV1"] = _fields_v1(sorted(_owned(entry) - taken))
    merged.setdefault("metadata", {})["managedFields"] = entries
    _record(merged, manager, "Apply", api_version, set(wanted))
    return dict(merged)


def _remove(obj: Any, path: Path) -> None:
    node = obj
    for part in path[:-1]:
        node = _child(node, part)
        if node is None:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(node, dict):
        node.pop(last[2:], None)


def _child(node: Any, part: str) -> Any:
    if part.startswith("f:") and isinstance(node, dict):
        return node.get(part[2:])
    if part.startswith("k:") and isinstance(node, list):
        ((key, value),) = json.loads(part[2:]).items()
        return next(
            (i for i in node if isinstance(i, dict) and i.get(key) == value), None
        )
    return None


def _conflict(conflicts: list[tuple[str, Path]], api_version: str) -> ApiError:
    count = len(conflicts)
    listed = "\n".join(f"- {_dotted(p)}" for _, p in conflicts)
    if count == 1:
        manager, path = conflicts[0]
        message = (
            f'Apply failed with 1 conflict: conflict with "{manager}" using '
            f"{api_version}: {_dotted(path)}"
        )
    else:
        managers = sorted({m for m, _ in conflicts})
        message = (
            f"Apply failed with {count} conflicts: conflicts with "
            + ", ".join(f'"{m}"' for m in managers)
            + f" using {api_version}:\n{listed}"
        )
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{m}" using {api_version}',
            "field": _dotted(p),
        }
        for m, p in conflicts
    ]
    return ApiError(409, message, "Conflict", {"causes": causes})
