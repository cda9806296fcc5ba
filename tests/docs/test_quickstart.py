"""The README's commands work as written, on a clean copy of the repository.

The test extracts the README's first set-up command and every fenced `bash` block of
its "Quick start" section, and runs them in order in one bash session (`set -e`),
as a newcomer would paste them, in a copy of the repository's tracked files, with a
private HOME and MESHDRILL_LAB_DIR in a temporary directory (its own lab, its own
journals/).

What is skipped, and why:
- The install commands (`python3 -m venv .venv`, `.venv/bin/pip install -e .`): this
  test already runs inside the installed venv, which the copy gets as its `.venv`
  (a symlink). The rest of that command (`.venv/bin/chaos run ...`) runs.
- The second set-up command, `bash scripts/test`: it runs this test suite itself.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = (
    re.compile(r"^python3 -m venv \.venv$"),
    re.compile(r"^\.venv/bin/pip install"),
)


def section(markdown: str, title: str) -> str:
    """The text under `## title`, up to the next `## ` heading."""
    start = markdown.index(f"\n## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def without_install(command: str) -> str:
    """`a && b && c` minus the install steps (see the module docstring)."""
    steps = [s.strip() for s in command.split("&&")]
    return " && ".join(s for s in steps if not any(p.match(s) for p in INSTALL))


def quick_start_script(readme: str) -> str:
    setup = bash_blocks(section(readme, "Set up on a fresh machine"))
    assert len(setup) == 2, "the README's set-up is two commands"
    assert setup[1].strip() == "bash scripts/test"
    blocks = [
        without_install(setup[0].strip()),
        *bash_blocks(section(readme, "Quick start")),
    ]
    return "set -euxo pipefail\n" + "\n".join(blocks)


def test_the_script_is_what_the_readme_says():
    """Only the two install steps are dropped; every quick-start line is kept."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = quick_start_script(readme)
    assert ".venv/bin/chaos run experiments/region_outage.json" in script
    assert "pip install" not in script
    assert "python3 -m venv" not in script
    quick = section(readme, "Quick start")
    for block in bash_blocks(quick):
        assert block in script
    assert "export KUBECONFIG=$(.venv/bin/meshdrill lab kubeconfig)" in script


def clean_copy(destination: Path) -> Path:
    """The repository's tracked files (as a clean checkout has them) and the venv."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(Path(sys.executable).parents[1])
    return destination


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_readme_quick_start_runs(tmp_path: Path):
    """Every quick-start command exits 0, and leaves what the README says it leaves."""
    if not (Path(sys.executable).parent / "chaos").exists():
        pytest.skip("not running inside an installed venv with chaos")
    repo = clean_copy(tmp_path / "meshdrill")
    script = quick_start_script((ROOT / "README.md").read_text(encoding="utf-8"))
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "MESHDRILL_LAB_DIR": str(tmp_path / "lab"),
        # as on a fresh machine: the venv is not on PATH, so a bare `chaos` fails
        "PATH": os.pathsep.join(
            entry
            for entry in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if Path(entry).resolve() != Path(sys.executable).parent.resolve()
        ),
    }
    env.pop("VIRTUAL_ENV", None)
    env.pop("KUBECONFIG", None)
    env.pop("MESHDRILL_JOURNALS_DIR", None)
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert (repo / "journal.json").is_file()
    assert (repo / "report.html").read_text(encoding="utf-8").count("<svg") == 1
    lines = (repo / "journals" / "ledger.jsonl").read_text().splitlines()
    events = [json.loads(line).get("event", "finished") for line in lines]
    # region outage, dry run, outlier ejection finished; the two real runs (not the
    # dry run, which changes nothing) also marked their start
    assert events.count("finished") == 3, events
    assert events.count("started") == 2, events
    assert not (tmp_path / "lab" / "state.json").exists()  # lab down stopped it
