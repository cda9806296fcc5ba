"""Secrets never reach the archive: declared positions masked, occurrences scrubbed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chaoslib.experiment import run_experiment

from chaosext.journals import archive, ledger, redact, verify
from tests.journals import factory

ECHO_EXPERIMENT = {
    "title": "secret echo",
    "description": "a probe that leaks its secrets into its output",
    "secrets": {"lab": {"token": factory.SECRET}},
    "controls": [
        {
            "name": "meshdrill-archive",
            "provider": {"type": "python", "module": "chaosext.controls.archive"},
        }
    ],
    "method": [
        {
            "type": "probe",
            "name": "echo",
            "provider": {
                "type": "python",
                "module": "tests.journals.factory",
                "func": "echo_secrets",
                "secrets": ["lab"],
            },
        }
    ],
}


def archive_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def test_secret_in_secrets_and_output_leaves_no_trace(archive_dir):
    """A secret declared in experiment.secrets and echoed in an output is nowhere."""
    journal = factory.journal()
    journal["run"][0]["output"]["debug"] = f"Authorization: Bearer {factory.SECRET}"
    journal["run"][0]["exception"] = [f"401 with token {factory.SECRET}\n"]
    archive.archive_journal(
        journal,
        secrets={"lab": {"token": factory.SECRET}},
        directory=archive_dir,
        environ={},
        argv=[],
    )
    data = archive_bytes(archive_dir)
    assert factory.SECRET.encode() not in data
    assert b"Bearer ***" in data


def test_chaos_run_with_the_control_archives_no_secret(tmp_path, monkeypatch):
    """A real chaoslib run whose probe echoes its secret archives no trace of it."""
    monkeypatch.chdir(tmp_path)
    experiment = {
        **ECHO_EXPERIMENT,
        "configuration": {"journals_dir": str(tmp_path / "arch")},
    }
    journal = run_experiment(experiment)
    assert factory.SECRET in str(journal["run"][0]["output"])  # the leak is real
    data = archive_bytes(tmp_path / "arch")
    assert b"secret echo" in data
    assert factory.SECRET.encode() not in data


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("api_token", True),
        ("DB_PASSWORD", True),
        ("clientSecret", True),
        ("apiKey", True),
        ("aws_credentials", True),
        ("namespace", False),
        ("kubeconfig", False),
        ("meshdrill_secret_keys", False),
    ],
)
def test_secret_looking_configuration_keys(key, secret):
    """Keys naming tokens, passwords, secrets, keys or credentials are secret."""
    assert redact.is_secret_key(key) is secret


def test_configuration_literals_masked_env_declarations_kept():
    """Secret literals become ***; env declarations keep their variable name."""
    masked = redact.redact_experiment(
        {
            "configuration": {
                "api_token": "abc123456",
                "db_password": {"type": "env", "key": "DB_PW", "default": "fallback1"},
                "ingress": "http://gw",
                "opaque": "zzz-private",
                "meshdrill_secret_keys": ["opaque"],
            },
            "secrets": {"k8s": {"token": "t0k3n", "ctx": {"type": "env", "key": "C"}}},
        }
    )
    config = masked["configuration"]
    assert config["api_token"] == redact.MASK
    assert config["db_password"] == {"type": "env", "key": "DB_PW", "default": "***"}
    assert config["ingress"] == "http://gw"
    assert config["opaque"] == redact.MASK
    assert masked["secrets"] == {"k8s": {"token": "***", "ctx": "***"}}


def test_resolved_configuration_secret_is_scrubbed_from_outputs():
    """An env-declared secret's resolved value is scrubbed where an output shows it."""
    journal = factory.journal()
    journal["experiment"]["configuration"]["meshdrill_secret_keys"] = ["ingress_auth"]
    journal["run"][0]["output"]["url"] = "https://user:hunter2-xyz@gw"
    clean, scrubber = redact.redact_journal(
        journal, configuration={"ingress_auth": "hunter2-xyz"}
    )
    assert clean["run"][0]["output"]["url"] == "https://user:***@gw"
    assert scrubber.count == 1


def test_short_secret_masked_only_as_whole_value():
    """A secret under four characters masks equal strings, not every substring."""
    scrubber = redact.Scrubber(["ab1"])
    assert scrubber({"x": "ab1", "y": "cab1e"}) == {"x": "***", "y": "cab1e"}


def test_env_declaration_names_are_not_treated_as_secrets():
    """`{"type": "env", "key": "X"}` in secrets does not make "env" or "X" secret."""
    values = redact.secret_values(factory.experiment(), None, None)
    assert values == {factory.SECRET}


def test_chaos_run_command_records_the_experiment_file(tmp_path):
    """`chaos run FILE` twice: two archived journals, the file's path and digest."""
    repo = Path(__file__).resolve().parents[2]
    chaos = Path(sys.executable).with_name("chaos")
    path = tmp_path / "secret_echo.json"
    path.write_text(json.dumps(ECHO_EXPERIMENT))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MESHDRILL_")},
        "PYTHONPATH": str(repo),
        "MESHDRILL_JOURNALS_DIR": str(tmp_path / "arch"),
    }
    for _ in range(2):
        proc = subprocess.run(
            [
                str(chaos),
                "--no-version-check",
                "run",
                str(path),
                "--journal-path",
                str(tmp_path / "journal.json"),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    entries = archive.entries(tmp_path / "arch")
    assert [e["experiment_path"] for e in entries] == [str(path)] * 2
    assert entries[0]["experiment_sha256"] == ledger.sha256_hex(path.read_bytes())
    assert verify.verify_dir(tmp_path / "arch").ok
    assert factory.SECRET.encode() not in archive_bytes(tmp_path / "arch")
