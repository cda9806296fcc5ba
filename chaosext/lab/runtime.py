"""Running the lab as its own process: start, find, stop; and the serve loop itself.

A lab lives in a state directory (`$MESHDRILL_LAB_DIR` or `~/.meshdrill/lab`):
`state.json` (written atomically once every server listens, removed on a clean
stop), `kubeconfig` (mode 0600), the API servers' CA `ca.crt` (and their key and
certificate), `lab.log`, and `routing.jsonl` (when each proxy's routing changed:
see `groundtruth`). The API servers speak HTTPS (see `tls`).

A drill that needs a lab of another topology than the user's starts a private
one in a folder of its own under `~/.meshdrill/private-labs/`, with an
`owner.json` naming the drill's process. The drill stops it and removes the
folder (token, keys and all) when it ends; a drill that was killed leaves an
orphan that `remove_orphans` (run by `meshdrill recover` and `meshdrill lab down
--all`) stops and removes.
"""

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaosext.lab import kubeconfig, tls, topology
from chaosext.lab.topology import settle_limit

# The lab's server (`serve`: chaosext.lab.lab and everything it runs) is imported
# by `serve` alone: a drill that only starts, finds or stops a lab process does
# not pay for importing it.

log = logging.getLogger("meshdrill.lab")

STATE_FILE = "state.json"
KUBECONFIG_FILE = "kubeconfig"
LOG_FILE = "lab.log"
OWNER_FILE = "owner.json"
PRIVATE_LABS = Path(".meshdrill") / "private-labs"


class LabError(RuntimeError):
    """The lab could not be started, found or stopped; the message says why."""


def default_state_dir() -> Path:
    """`$MESHDRILL_LAB_DIR`, or `~/.meshdrill/lab`."""
    configured = os.environ.get("MESHDRILL_LAB_DIR")
    return (
        Path(configured).expanduser()
        if configured
        else Path.home() / ".meshdrill" / "lab"
    )


@dataclass
class LabInfo:
    """A running lab, as its state.json describes it."""

    pid: int
    topology: str
    state_dir: Path
    kubeconfig: Path
    clusters: dict[str, str]
    token: str


def _state_path(state_dir: Path | str) -> Path:
    return Path(state_dir).expanduser() / STATE_FILE


def read_state(state_dir: Path | str) -> dict[str, Any] | None:
    """The raw state.json, or None when absent or unreadable."""
    try:
        data = json.loads(_state_path(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _info(state: dict[str, Any]) -> LabInfo | None:
    try:
        return LabInfo(
            pid=int(state["pid"]),
            topology=str(state["topology"]),
            state_dir=Path(state["state_dir"]),
            kubeconfig=Path(state["kubeconfig"]),
            clusters={str(k): str(v) for k, v in state["clusters"].items()},
            token=str(state["token"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _alive(pid: int) -> bool:
    """True if `pid` runs (reaping it first if it is our exited child)."""
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie is not alive


def _is_lab_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return True  # no /proc: trust the state file
    return b"chaosext.lab" in cmdline or b"meshdrill" in cmdline


def _answers(url: str, token: str, ca_file: Path) -> bool:
    request = urllib.request.Request(
        f"{url}/version", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        context = tls.client_context(ca_file) if url.startswith("https") else None
        with urllib.request.urlopen(request, timeout=2.0, context=context) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def running_lab(state_dir: Path | str) -> LabInfo | None:
    """The lab running in `state_dir`, if its process lives and its API answers."""
    state = read_state(state_dir)
    info = _info(state) if state else None
    if info is None or not _alive(info.pid) or not _is_lab_process(info.pid):
        return None
    ca_file = Path(state_dir).expanduser() / tls.CA_FILE
    if not all(_answers(url, info.token, ca_file) for url in info.clusters.values()):
        return None
    return info


def log_tail(state_dir: Path | str, lines: int = 20) -> str:
    try:
        text = (Path(state_dir).expanduser() / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no lab.log)"
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """Hold the state directory's lock (one start at a time)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_reuse(state_dir: Path, wanted: str) -> LabInfo | None:
    """The lab already running in `state_dir` if it runs `wanted`; LabError if it
    runs another topology; None if none runs (a stale state.json is removed)."""
    existing = running_lab(state_dir)
    if existing is None:
        _state_path(state_dir).unlink(missing_ok=True)
        return None
    if existing.topology != wanted:
        raise LabError(
            f"a lab with topology '{existing.topology}' already runs in {state_dir} "
            f"(pid {existing.pid}); stop it first (meshdrill lab down --state-dir "
            f"{state_dir}) to start '{wanted}'"
        )
    return existing


def start_lab(
    topology_name: str, state_dir: Path | str, timeout: float | None = None
) -> LabInfo:
    """Start a lab process for `topology_name` (a shipped name or a YAML path) in
    `state_dir`, detached, and wait until it serves (by default, as long as the
    topology's size allows: `lab.settle_limit`, plus 5 s to start the process).
    Returns the running lab if one with the same topology already runs there.
    Raises TopologyError for a bad topology, LabError (with the log's tail) if the
    lab does not come up."""
    state_dir = Path(state_dir).expanduser().resolve()
    loaded = topology.load(topology_name)  # fail fast, in the caller's process
    if timeout is None:
        timeout = settle_limit(loaded) + 5.0
    wanted = topology.canonical(topology_name)
    with _locked(state_dir):
        existing = check_reuse(state_dir, wanted)
        if existing is not None:
            return existing
        argv = [
            sys.executable,
            "-m",
            "chaosext.lab",
            "serve",
            "--topology",
            wanted,
            "--state-dir",
            str(state_dir),
        ]
        log_path = state_dir / LOG_FILE
        pid = os.posix_spawn(
            sys.executable,
            argv,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (
                    os.POSIX_SPAWN_OPEN,
                    1,
                    str(log_path),
                    os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                    0o644,
                ),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = read_state(state_dir)
            if state and state.get("pid") == pid:
                info = running_lab(state_dir)
                if info is not None:
                    return info
            if not _alive(pid):
                raise LabError(
                    f"the lab ({wanted}) exited while starting; {log_path} ends:\n"
                    + log_tail(state_dir)
                )
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        raise LabError(
            f"the lab ({wanted}) did not come up within {timeout:g}s; {log_path} "
            "ends:\n" + log_tail(state_dir)
        )


def stop_lab(state_dir: Path | str, timeout: float = 10.0) -> bool:
    """Stop the lab running in `state_dir`; False if none ran there."""
    state = read_state(state_dir)
    info = _info(state) if state else None
    if info is None or not _alive(info.pid) or not _is_lab_process(info.pid):
        _state_path(state_dir).unlink(missing_ok=True)
        return False
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(info.pid):
        if time.monotonic() > deadline:
            log.warning(
                "lab pid %d ignored SIGTERM for %gs: killing it", info.pid, timeout
            )
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    _state_path(state_dir).unlink(missing_ok=True)
    return True


async def serve(
    topology_name: str,
    state_dir: Path | str,
    on_ready: Callable[[LabInfo], None] | None = None,
) -> None:
    """Run a lab in this process until SIGTERM or SIGINT."""
    from chaosext.lab import authz, groundtruth, pacing
    from chaosext.lab.lab import Lab

    state_dir = Path(state_dir).expanduser().resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    topo = topology.load(topology_name)
    tls.write(state_dir, tls.generate())
    lab = Lab(
        topo,
        ssl_context=tls.server_context(state_dir),
        ground_truth=state_dir / groundtruth.FILE,
    )
    requests = authz.RequestLog(state_dir / authz.AUDIT_FILE)  # one, shared:
    for cluster in lab.clusters.values():  # it rotates (what each request did)
        cluster.api.request_log = requests
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    state_path = _state_path(state_dir)
    pacing.fewer_collections()
    freezer: asyncio.Task[None] | None = None
    try:
        await lab.start()
        pacing.keep_started()
        freezer = asyncio.create_task(pacing.keep_collected())
        ca_pem = (state_dir / tls.CA_FILE).read_bytes()
        config = kubeconfig.write(
            state_dir / KUBECONFIG_FILE, lab.urls(), lab.token, ca_pem
        )
        state = {
            "pid": os.getpid(),
            "topology": topology.canonical(topology_name),
            "state_dir": str(state_dir),
            "kubeconfig": str(config),
            "clusters": lab.urls(),
            "token": lab.token,
            "ca": str(state_dir / tls.CA_FILE),
            "gateways": lab.gateway_urls(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        kubeconfig.write_private(state_path, json.dumps(state, indent=2) + "\n")
        log.info("lab %s ready: %s", topo.name, lab.urls())
        info = _info(state)
        if on_ready is not None and info is not None:
            on_ready(info)
        await stop.wait()
        log.info("lab %s stopping", topo.name)
    finally:
        if freezer is not None:
            freezer.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        current = read_state(state_dir)
        if current is not None and current.get("pid") == os.getpid():
            state_path.unlink(missing_ok=True)
        await lab.stop()
        log.info("lab %s stopped", topo.name)


def private_root() -> Path:
    """Where drills keep their private labs: `~/.meshdrill/private-labs`."""
    return Path.home() / PRIVATE_LABS


def make_private_dir(owner_pid: int, run_id: str = "") -> Path:
    """A new private lab folder (mode 0700) owned by process `owner_pid`."""
    root = private_root()
    root.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="lab-", dir=root))
    claim(directory, owner_pid, run_id)
    return directory


def claim(state_dir: Path | str, owner_pid: int, run_id: str = "") -> None:
    """Mark a lab as started for (and to be stopped by) process `owner_pid`."""
    owner = {"pid": owner_pid, "run_id": run_id, "started": time.time()}
    path = Path(state_dir) / OWNER_FILE
    path.write_text(json.dumps(owner) + "\n", encoding="utf-8")


def release(state_dir: Path | str) -> None:
    """The lab is no longer a drill's own (stopped, or handed to the user)."""
    (Path(state_dir) / OWNER_FILE).unlink(missing_ok=True)


def owner_run(state_dir: Path | str) -> str:
    """The run id that started the lab in `state_dir`, or ""."""
    try:
        owner = json.loads((Path(state_dir) / OWNER_FILE).read_text("utf-8"))
        return str(owner.get("run_id") or "")
    except (OSError, ValueError, AttributeError):
        return ""


def remove_private(state_dir: Path | str) -> None:
    """Stop the lab in a private folder, and remove the folder with its secrets."""
    stop_lab(state_dir)
    shutil.rmtree(state_dir, ignore_errors=True)


def _owner_alive(directory: Path) -> bool:
    try:
        owner = json.loads((directory / OWNER_FILE).read_text(encoding="utf-8"))
        pid = int(owner["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # no owner on record: nobody will stop it
    if pid == os.getpid():
        return True
    return _alive(pid)


def remove_orphans() -> list[tuple[Path, str]]:
    """Stop the labs whose drill is gone; return (folder, the drill's run id).

    A private lab is stopped and its folder removed. A lab a drill started in
    the default folder (`default_state_dir`, marked by `claim`) is stopped.
    """
    removed: list[tuple[Path, str]] = []
    default = default_state_dir()
    if (default / OWNER_FILE).exists() and not _owner_alive(default):
        removed.append((default, owner_run(default)))
        stop_lab(default)
        release(default)
    root = private_root()
    if not root.is_dir():
        return removed
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        if _owner_alive(directory):
            continue
        removed.append((directory, owner_run(directory)))
        remove_private(directory)
    return removed
