"""The `meshdrill` command imports only the part it runs."""

import argparse
import importlib
import subprocess
import sys

import pytest

from chaosext import cli


@pytest.mark.parametrize("name", sorted(cli.PARTS))
def test_listed_help_is_what_the_part_registers(name: str) -> None:
    """The help `meshdrill --help` shows without importing a part is the part's own."""
    module, listed = cli.PARTS[name]
    parser = argparse.ArgumentParser()
    importlib.import_module(module).register(parser.add_subparsers())
    registered = {
        action.dest: action.help
        for group in parser._subparsers._group_actions  # type: ignore[union-attr]
        for action in group._choices_actions  # type: ignore[attr-defined]
    }
    assert registered == {name: listed}


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\nfrom chaosext import cli\n"
        f"try:\n    cli.main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_help_imports_no_part_and_no_kubernetes_client() -> None:
    """`meshdrill --help` lists every part without importing any, nor kubernetes."""
    loaded = _modules_after(["--help"])
    assert not {module for module, _ in cli.PARTS.values()} & loaded
    assert "kubernetes" not in loaded


def test_a_command_imports_its_own_part_only() -> None:
    """`meshdrill journals --help` imports the journals part, not the lab's."""
    loaded = _modules_after(["journals", "--help"])
    assert "chaosext.journals.cli" in loaded
    assert "chaosext.lab.cli" not in loaded


def test_the_probes_import_without_the_kubernetes_client() -> None:
    """Chaos Toolkit imports the activities' modules: no kubernetes models until a
    probe talks to a cluster."""
    code = (
        "import sys, probes.waiting, probes.split; print('kubernetes' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
