"""`meshdrill gameday manifest`: strict-valid objects, exact least-privilege RBAC."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from chaosext.gameday import manifest
from chaosext.gameday.validation import load_game_day
from tests.gameday import trivial

KUBERNETES = "1.32.0"


# Exactly the API calls of chaosext.actions, probes and chaosext.undo (restore).
@pytest.fixture
def game_day_file(tmp_path: Path) -> Path:
    """Two drills in two folders, one var file, files with clashing names."""
    (tmp_path / "drills").mkdir()
    (tmp_path / "config").mkdir()
    trivial.write_json(tmp_path / "drills" / "a.json", trivial.passing(tmp_path / "m"))
    trivial.write_json(tmp_path / "a.json", trivial.passing(tmp_path / "m"))
    (tmp_path / "config" / "lab.yaml").write_text("configuration: {x: 1}\n")
    return trivial.write_game_day(
        tmp_path / "gd.yaml",
        [
            {
                "experiment": "drills/a.json",
                "name": "one",
                "var_files": ["config/lab.yaml"],
            },
            {"experiment": "a.json", "name": "two", "vars": {"n": 2}},
        ],
        name="Weekly Failover",
        timezone="Europe/Paris",
        concurrency="allow",
    )


def _objects(path: Path, **options: Any) -> list[dict[str, Any]]:
    rbac_only = options.pop("rbac_only", False)
    return manifest.manifest_objects(
        load_game_day(path), manifest.ManifestOptions(**options), rbac_only=rbac_only
    )


def _kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def _granted(objects: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for role in _kind(objects, "ClusterRole") + _kind(objects, "Role"):
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


@pytest.mark.parametrize("rbac_only", [False, True])
def test_every_object_passes_strict_schema_validation(
    game_day_file: Path, rbac_only: bool
) -> None:
    """kubernetes-validate --strict (1.32) accepts each object."""
    for obj in _objects(game_day_file, rbac_only=rbac_only, target_namespaces=("app",)):
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_cli_output_passes_the_kubernetes_validate_command(
    game_day_file: Path, tmp_path: Path
) -> None:
    """`meshdrill gameday manifest -o F` then `kubernetes-validate --strict F`."""
    out = tmp_path / "manifest.yaml"
    subprocess.run(
        [
            *trivial.meshdrill(),
            "gameday",
            "manifest",
            str(game_day_file),
            "-o",
            str(out),
        ],
        check=True,
    )
    validator = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run(
        [str(validator), "--strict", "-k", KUBERNETES, str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == 6


def test_scoping_to_namespaces_grants_the_same_verbs(game_day_file: Path) -> None:
    """Target namespaces move rules into Roles and grant the same verbs (that the
    set is exactly what the drills use: tests/drills/test_rbac_derived.py)."""
    wide = _granted(_objects(game_day_file, rbac_only=True))
    scoped = _granted(
        _objects(game_day_file, rbac_only=True, target_namespaces=("app", "client"))
    )
    assert wide
    assert scoped == wide


def test_rbac_has_no_wildcards_or_secrets(game_day_file: Path) -> None:
    """No `*` anywhere and no access to secrets or configmaps."""
    text = yaml.safe_dump_all(_objects(game_day_file, rbac_only=True))
    assert "'*'" not in text
    assert "secrets" not in text
    assert "configmaps" not in text


def test_target_namespaces_scope_namespaced_rules_to_roles(game_day_file: Path) -> None:
    """With --target-namespace, only nodes, preflight's cluster-wide reads and the
    client-side fault's VirtualService list (a host's routing in any namespace)
    stay cluster-wide; istio-system gets a Role for preflight's reads there."""
    objects = _objects(
        game_day_file, rbac_only=True, target_namespaces=("app", "client")
    )
    cluster = {r["resources"][0] for r in _kind(objects, "ClusterRole")[0]["rules"]}
    assert cluster == {
        "nodes",
        "namespaces",
        "services",
        "destinationrules",
        "selfsubjectaccessreviews",
        "virtualservices",
    }
    roles = _kind(objects, "Role")
    assert [role["metadata"]["namespace"] for role in roles] == [
        "app",
        "client",
        "istio-system",
    ]
    bindings = _kind(objects, "RoleBinding")
    assert all(b["subjects"][0]["namespace"] == "meshdrill" for b in bindings)


def test_rbac_only_prints_only_rbac(game_day_file: Path) -> None:
    """The target-cluster set: ServiceAccount, roles, bindings; no workload."""
    kinds = {obj["kind"] for obj in _objects(game_day_file, rbac_only=True)}
    assert kinds == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding"}


def test_no_rbac_keeps_only_the_service_account(game_day_file: Path) -> None:
    """--no-rbac: a management cluster that is not a target gets no permissions."""
    objects = _objects(game_day_file, rbac=False)
    assert [obj["kind"] for obj in objects] == [
        "ServiceAccount",
        "ConfigMap",
        "PersistentVolumeClaim",
        "CronJob",
    ]
    pod = _kind(objects, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]
    assert pod["spec"]["automountServiceAccountToken"] is False


def test_cronjob_carries_schedule_policy_and_deadline(game_day_file: Path) -> None:
    """Schedule, time zone, Allow, history limits and startingDeadlineSeconds."""
    spec = _kind(_objects(game_day_file, failed_history=5), "CronJob")[0]["spec"]
    assert (spec["schedule"], spec["timeZone"]) == ("0 6 * * 1", "Europe/Paris")
    assert spec["concurrencyPolicy"] == "Allow"
    assert spec["startingDeadlineSeconds"] == 60
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (
        3,
        5,
    )
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0


def test_container_runs_the_shipped_game_day_with_journals_on_the_claim(
    game_day_file: Path,
) -> None:
    """meshdrill gameday run /gameday/gd.yaml --journals-dir /journals (a PVC)."""
    objects = _objects(game_day_file)
    pod = _kind(objects, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]
    container = pod["containers"][0]
    assert container["command"] + container["args"] == [
        "meshdrill",
        "gameday",
        "run",
        "/gameday/gd.yaml",
        "--journals-dir",
        "/journals",
    ]
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = _kind(objects, "PersistentVolumeClaim")[0]["metadata"]["name"]
    assert volumes["journals"]["persistentVolumeClaim"]["claimName"] == claim
    assert volumes["kubeconfig"]["secret"]["secretName"] == "meshdrill-kubeconfig"


def test_configmap_game_day_loads_with_its_shipped_files(
    game_day_file: Path, tmp_path: Path
) -> None:
    """Unpacked as the pod sees it, the rewritten game day validates."""
    data = _kind(_objects(game_day_file), "ConfigMap")[0]["data"]
    assert set(data) == {"gd.yaml", "a.json", "2-a.json", "lab.yaml"}
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    for key, text in data.items():
        (mounted / key).write_text(text)
    shipped = load_game_day(mounted / "gd.yaml")
    assert [d.experiment.name for d in shipped.drills] == ["a.json", "2-a.json"]
    assert shipped.drills[0].var_files == (mounted / "lab.yaml",)
    assert shipped.drills[1].vars == {"n": 2}


def test_seconds_schedule_cannot_become_a_cronjob(tmp_path: Path) -> None:
    """A 6-field (seconds) schedule is refused with the file and field named."""
    trivial.write_json(tmp_path / "p.json", trivial.passing(tmp_path / "m"))
    path = trivial.write_game_day(
        tmp_path / "gd.yaml", [{"experiment": "p.json"}], schedule="*/2 * * * * *"
    )
    with pytest.raises(manifest.ManifestError, match=r"gd\.yaml: schedule: .*5-field"):
        _objects(path)


def test_shipped_weekly_failover_manifest_is_valid() -> None:
    """The shipped game day becomes strict-valid objects."""
    repo = Path(__file__).resolve().parents[2]
    for obj in _objects(repo / "experiments/gamedays/weekly-failover.yaml"):
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)
