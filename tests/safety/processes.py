"""Run `chaos run` and `meshdrill` as a user does: subprocesses, real exit codes."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from chaosext.lab import runtime
from tests.drills.drilling import CHAOS, ROOT, drill_env

MESHDRILL = str(Path(sys.executable).with_name("meshdrill"))
EXPERIMENTS = ROOT / "experiments"
TRACEBACK = "Traceback (most recent call last)"

T = TypeVar("T")


def lab_env(tmp: Path, lab: runtime.LabInfo | None) -> dict[str, str]:
    """A fresh machine's environment whose default lab is `lab` (if given)."""
    env = drill_env(tmp)
    if lab is not None:
        env["MESHDRILL_LAB_DIR"] = str(lab.state_dir)
    return env


def chaos_argv(
    experiment: Path,
    tmp: Path,
    name: str,
    variables: dict[str, str] | None = None,
    var_files: tuple[Path, ...] = (),
    options: tuple[str, ...] = (),
) -> list[str]:
    argv = [CHAOS, "--log-file", str(tmp / f"{name}.log"), "run"]
    argv += ["--journal-path", str(tmp / f"{name}.json"), *options]
    for key, value in (variables or {}).items():
        argv += ["--var", f"{key}={value}"]
    for var_file in var_files:
        argv += ["--var-file", str(var_file)]
    return [*argv, str(experiment)]


@dataclass
class Finished:
    """A command that ended: exit code, what it printed, the journal if any."""

    code: int
    output: str
    journal: dict[str, Any]

    @property
    def notes(self) -> dict[str, Any]:
        """The journal's `meshdrill` section (verdict, reasons, restore...)."""
        return dict(self.journal.get("meshdrill") or {})

    @property
    def reasons(self) -> str:
        return "\n".join(self.notes.get("reasons") or [])


class Drill:
    """`chaos run` in the background, to be signalled or killed mid-run."""

    def __init__(self, argv: list[str], tmp: Path, name: str, env: dict[str, str]):
        self.journal_path = tmp / f"{name}.json"
        self.output_path = tmp / f"{name}.out"
        with self.output_path.open("w") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=tmp,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_sigint_as_at_a_terminal,
            )

    def until(self, condition: Callable[[], T | None], timeout: float, what: str) -> T:
        """Wait (with a deadline) for `condition` while the drill still runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the drill exited {self.proc.returncode} before {what}:\n"
                    + self.output()[-3000:]
                )
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def send(self, sig: signal.Signals) -> float:
        """Send `sig`; return the monotonic time it was sent."""
        self.proc.send_signal(sig)
        return time.monotonic()

    def wait(self, timeout: float) -> Finished:
        """Wait for the process to end (TimeoutExpired after `timeout`)."""
        code = self.proc.wait(timeout=timeout)
        return Finished(code, self.output(), self.journal())

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def journal(self) -> dict[str, Any]:
        if not self.journal_path.exists():
            return {}
        data: dict[str, Any] = json.loads(self.journal_path.read_text())
        return data

    def stop(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _sigint_as_at_a_terminal() -> None:
    """Give the drill SIGINT's default disposition, as a shell in a terminal does.

    A non-interactive shell starts background jobs with SIGINT ignored, and an
    ignored signal stays ignored across exec: under such a CI the drill would
    never see the Ctrl-C these tests send. A user's terminal never does that.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_drill(
    experiment: Path,
    tmp: Path,
    lab: runtime.LabInfo | None,
    name: str = "drill",
    **kw: Any,
) -> Drill:
    return Drill(chaos_argv(experiment, tmp, name, **kw), tmp, name, lab_env(tmp, lab))


def run(
    argv: list[str], tmp: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def chaos_run(
    experiment: Path,
    tmp: Path,
    lab: runtime.LabInfo | None,
    name: str = "drill",
    timeout: float = 120,
    **kw: Any,
) -> Finished:
    """`chaos run` to the end; the journal read back."""
    argv = chaos_argv(experiment, tmp, name, **kw)
    done = run(argv, tmp, lab_env(tmp, lab), timeout)
    journal_path = tmp / f"{name}.json"
    journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
    return Finished(done.returncode, done.stdout + done.stderr, journal)


def meshdrill(*args: str, tmp: Path, lab: runtime.LabInfo | None = None) -> Finished:
    """`meshdrill ARGS` to the end."""
    done = run([MESHDRILL, *args], tmp, lab_env(tmp, lab))
    return Finished(done.returncode, done.stdout + done.stderr, {})
