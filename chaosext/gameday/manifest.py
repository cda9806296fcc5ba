"""Kubernetes objects that run a game day as a CronJob in a management cluster.

The ConfigMap carries the game-day file (rewritten so its paths point inside the
ConfigMap), every experiment and every var file it names. The container runs
`meshdrill gameday run /gameday/<file> --journals-dir /journals`, with the journal
archive on a PersistentVolumeClaim and the kubeconfig for the target clusters
from a Secret the user creates.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chaosext import __version__
from chaosext.gameday.cron import CronError, check_kubernetes_schedule
from chaosext.gameday.executor import DEFAULT_GRACE
from chaosext.gameday.model import GameDay
from chaosext.gameday.rbac import rbac_objects

__all__ = ["ManifestError", "ManifestOptions", "manifest_objects", "to_yaml"]

CONFIGMAP_LIMIT = 1024 * 1024  # bytes Kubernetes accepts in one ConfigMap
KUBECONFIG_DIR = "/etc/meshdrill/kubeconfig"
_KEY_CHARS = re.compile(r"[^-._a-zA-Z0-9]+")


class ManifestError(ValueError):
    """The game day cannot become a CronJob; the message says why."""


@dataclass(frozen=True)
class ManifestOptions:
    """Choices of `meshdrill gameday manifest` (see its --help)."""

    image: str = f"meshdrill:{__version__}"
    namespace: str = "meshdrill"
    kubeconfig_secret: str = "meshdrill-kubeconfig"
    storage: str = "1Gi"
    successful_history: int = 3
    failed_history: int = 3
    target_namespaces: tuple[str, ...] = ()
    rbac: bool = True


def resource_name(game_day: GameDay) -> str:
    """A DNS-1123 name for the game day's objects, short enough for Job names."""
    slug = re.sub(r"[^a-z0-9]+", "-", game_day.name.lower()).strip("-")
    return f"gameday-{slug}"[:52].rstrip("-")


def _file_keys(game_day: GameDay) -> dict[Path, str]:
    """Each file to ship -> its ConfigMap key (unique, flat, valid)."""
    keys: dict[Path, str] = {}
    used: set[str] = set()
    files = [game_day.path]
    for drill in game_day.drills:
        files += [drill.experiment, *drill.var_files]
    for path in files:
        if path in keys:
            continue
        base = _KEY_CHARS.sub("-", path.name).strip(".") or "file"
        key, counter = base, 1
        while key in used:
            counter += 1
            key = f"{counter}-{base}"
        keys[path] = key
        used.add(key)
    return keys


def portable_game_day(game_day: GameDay, keys: dict[Path, str]) -> str:
    """The game-day file with every path replaced by its ConfigMap key."""
    document: dict[str, Any] = {
        "name": game_day.name,
        "description": game_day.description,
        "schedule": game_day.schedule.expression,
        "timezone": game_day.timezone,
        "on_failure": game_day.on_failure,
        "concurrency": game_day.concurrency,
        "starting_deadline_seconds": game_day.starting_deadline_seconds,
        "drills": [
            {
                "name": drill.name,
                "experiment": keys[drill.experiment],
                "var_files": [keys[path] for path in drill.var_files],
                "vars": dict(drill.vars),
            }
            for drill in game_day.drills
        ],
        "notify": [
            {"webhook": hook.url, "on": sorted(hook.on)} for hook in game_day.notify
        ],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _configmap(
    game_day: GameDay, name: str, meta: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    keys = _file_keys(game_day)
    data: dict[str, str] = {}
    for path, key in keys.items():
        if path == game_day.path:
            data[key] = portable_game_day(game_day, keys)
            continue
        try:
            data[key] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"cannot ship {path} in the ConfigMap: {exc}") from exc
    size = sum(len(key) + len(value.encode()) for key, value in data.items())
    if size > CONFIGMAP_LIMIT:
        raise ManifestError(
            f"the game day's files take {size} bytes, more than a ConfigMap holds "
            f"({CONFIGMAP_LIMIT}); split the game day"
        )
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-files", **meta},
        "data": data,
    }
    return configmap, keys[game_day.path]


def _pod_spec(name: str, file_key: str, options: ManifestOptions) -> dict[str, Any]:
    user = 65532
    return {
        "serviceAccountName": name,
        "automountServiceAccountToken": options.rbac,
        "restartPolicy": "Never",
        # SIGTERM reaches meshdrill, which forwards it and lets the drill restore
        "terminationGracePeriodSeconds": int(DEFAULT_GRACE) + 30,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": user,
            "runAsGroup": user,
            "fsGroup": user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "gameday",
                "image": options.image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["meshdrill", "gameday", "run", f"/gameday/{file_key}"],
                "args": ["--journals-dir", "/journals"],
                "workingDir": "/tmp",
                "env": [
                    {"name": "KUBECONFIG", "value": f"{KUBECONFIG_DIR}/kubeconfig"},
                    {"name": "MESHDRILL_JOURNALS_DIR", "value": "/journals"},
                    {"name": "MESHDRILL_LAB_DIR", "value": "/tmp/meshdrill-lab"},
                    {"name": "HOME", "value": "/tmp"},
                ],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "100m", "memory": "256Mi"},
                    "limits": {"memory": "1Gi"},
                },
                "volumeMounts": [
                    {"name": "gameday", "mountPath": "/gameday", "readOnly": True},
                    {"name": "journals", "mountPath": "/journals"},
                    {
                        "name": "kubeconfig",
                        "mountPath": KUBECONFIG_DIR,
                        "readOnly": True,
                    },
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
        "volumes": [
            {"name": "gameday", "configMap": {"name": f"{name}-files"}},
            {
                "name": "journals",
                "persistentVolumeClaim": {"claimName": f"{name}-journals"},
            },
            {
                "name": "kubeconfig",
                # optional: a game day against the embedded lab needs none
                "secret": {
                    "secretName": options.kubeconfig_secret,
                    "optional": True,
                    "defaultMode": 0o440,
                },
            },
            {"name": "tmp", "emptyDir": {}},
        ],
    }


def _cronjob(
    game_day: GameDay,
    name: str,
    file_key: str,
    meta: dict[str, Any],
    options: ManifestOptions,
) -> dict[str, Any]:
    labels = meta["labels"]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, **meta},
        "spec": {
            "schedule": game_day.schedule.expression,
            "timeZone": game_day.timezone,
            "concurrencyPolicy": "Forbid"
            if game_day.concurrency == "forbid"
            else "Allow",
            # a run not started this late is skipped, never caught up
            "startingDeadlineSeconds": game_day.starting_deadline_seconds,
            "successfulJobsHistoryLimit": options.successful_history,
            "failedJobsHistoryLimit": options.failed_history,
            "jobTemplate": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "backoffLimit": 0,  # a failed game day is reported, not re-run
                    "template": {
                        "metadata": {"labels": dict(labels)},
                        "spec": _pod_spec(name, file_key, options),
                    },
                },
            },
        },
    }


def manifest_objects(
    game_day: GameDay, options: ManifestOptions, *, rbac_only: bool = False
) -> list[dict[str, Any]]:
    """The objects for the management cluster, or only the RBAC for a target."""
    name = resource_name(game_day)
    labels = {
        "app.kubernetes.io/name": "meshdrill",
        "app.kubernetes.io/component": "gameday",
        "app.kubernetes.io/instance": name,
    }
    rbac = rbac_objects(name, options.namespace, labels, options.target_namespaces)
    if rbac_only:
        return rbac
    try:
        check_kubernetes_schedule(game_day.schedule.expression)
    except CronError as exc:
        raise ManifestError(f"{game_day.path}: schedule: {exc}") from exc
    meta = {"namespace": options.namespace, "labels": labels}
    configmap, file_key = _configmap(game_day, name, meta)
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{name}-journals", **meta},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": options.storage}},
        },
    }
    objects = rbac if options.rbac else rbac[:1]  # the ServiceAccount always
    return [
        *objects,
        configmap,
        claim,
        _cronjob(game_day, name, file_key, meta, options),
    ]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the shipped files) as readable literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(objects: list[dict[str, Any]], header: str) -> str:
    """A multi-document YAML stream, with `header` as leading comment lines."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.dump_all(
        objects,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        explicit_start=True,
    )
    return comment + body
