"""The lab's own security: loopback only, a token on every API call, secrets 0600.

Also covered elsewhere (not repeated here): a request without the token gets 401
(tests/lab/test_client.py), exec only into declared client pods, 403 otherwise
(tests/lab/test_exec.py, tests/lab/test_guide001.py), the kubeconfig is 0600
(tests/lab/test_cli.py).
"""

import json
import os
import socket
import stat
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chaosext.lab import runtime, tls

LISTEN = "0A"
LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def _socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets open in `pid` and its children."""
    pids = {pid} | {
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(entry) == pid
    }
    inodes: set[str] = set()
    for each in pids:
        for fd in Path(f"/proc/{each}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _listening(inodes: set[str]) -> list[tuple[str, str, int]]:
    """(table, hex address, port) of every listening socket among `inodes`."""
    found = []
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == LISTEN and fields[9] in inodes:
                found.append((table, address, int(port, 16)))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_every_lab_socket_listens_on_loopback_only(shared_lab: runtime.LabInfo) -> None:
    """API servers, gateways, pods and proxies: all bound to 127.0.0.1, none else."""
    listening = _listening(_socket_inodes(shared_lab.pid))
    assert {(table, address) for table, address, _ in listening} == {("tcp", LOOPBACK)}
    state = json.loads((shared_lab.state_dir / runtime.STATE_FILE).read_text())
    urls = [*state["clusters"].values(), *state["gateways"].values()]
    announced = {urlsplit(url).port for url in urls}
    assert announced <= {port for _, _, port in listening}
    assert len(listening) > len(announced)  # pods and proxies listen too


def _other_local_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_lab_cannot_be_reached_on_another_local_address(
    shared_lab: runtime.LabInfo,
) -> None:
    """The API port answers on 127.0.0.1 and refuses on the machine's own address."""
    address = _other_local_address()
    if address is None:
        pytest.skip("no non-loopback interface")
    port = urlsplit(shared_lab.clusters["cluster-a"]).port
    assert port is not None
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, port), timeout=5).close()


@pytest.mark.parametrize("cluster", ["cluster-a", "cluster-b"])
def test_a_wrong_token_is_401_on_every_api_server(
    cluster: str, shared_lab: runtime.LabInfo
) -> None:
    """Any token but the lab's own gets 401 Unauthorized."""
    request = urllib.request.Request(
        shared_lab.clusters[cluster] + "/api/v1/nodes",
        headers={"Authorization": "Bearer not-" + shared_lab.token},
    )
    context = tls.client_context(shared_lab.state_dir / tls.CA_FILE)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5, context=context)
    assert err.value.code == 401


@pytest.mark.parametrize(
    "name",
    [runtime.KUBECONFIG_FILE, runtime.STATE_FILE, tls.KEY_FILE],
)
def test_files_holding_secrets_are_private(
    name: str, shared_lab: runtime.LabInfo
) -> None:
    """The kubeconfig and state.json (the token) and the TLS key: mode 0600."""
    assert stat.S_IMODE((shared_lab.state_dir / name).stat().st_mode) == 0o600
