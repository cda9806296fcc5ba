"""The lab's reactions to configuration (`chaosext.lab.meshcontrol`), in process:
a waypoint Gateway makes and unmakes its waypoint; a global label makes and
unmakes the autogen ServiceEntry in every cluster; east-west gateways are where
the topology says."""

import asyncio
import copy
from collections.abc import Callable
from typing import Any

from chaosext.lab import kinds, meshcontrol, topology
from chaosext.lab.lab import Lab, seed
from chaosext.lab.store import Obj, Store
from tests.labfixtures import FAST_TIMING, topology_dict, write_topology

WAYPOINT: Obj = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "httpbin-waypoint", "namespace": "httpbin"},
    "spec": {
        "gatewayClassName": "istio-waypoint",
        "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
    },
}
SE_NAME = "autogen.httpbin.in-ambient"


async def until(check: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not check():
        assert loop.time() < deadline, f"not within {limit} s: {what}"
        await asyncio.sleep(0.02)


def relabel(value: str | None) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        labels = obj["metadata"].setdefault("labels", {})
        if value is None:
            labels.pop("solo.io/service-scope", None)
        else:
            labels["solo.io/service-scope"] = value

    return change


async def session(lab: Lab) -> None:
    await lab.start()
    try:
        stores = {name: rt.store for name, rt in lab.clusters.items()}
        one: Store = stores["cluster1"]
        se = meshcontrol.SERVICE_ENTRY
        assert se is not None
        # East-west gateways as declared (eastwest: us-east-1a / us-west-2a).
        for name, zone in (("cluster1", "us-east-1a"), ("cluster2", "us-west-2a")):
            ew = stores[name].peek(
                kinds.DEPLOYMENT, "istio-system", "istio-eastwestgateway"
            )
            assert ew is not None
            assert ew["metadata"]["labels"]["topology.kubernetes.io/zone"] == zone
        # The topology's global Service has its ServiceEntry in both clusters.
        for store in stores.values():
            entry = store.peek(se, "istio-system", SE_NAME)
            assert entry is not None
            assert entry["spec"]["hosts"] == ["in-ambient.httpbin.mesh.internal"]
        # Unlabelled in one cluster only: still global through the other.
        one.mutate(kinds.SERVICE, "httpbin", "in-ambient", relabel(None))
        # The store calls mesh control inline, which queues its reaction with
        # call_soon; callbacks run in the order queued, so one turn of the loop
        # runs that reaction before this task resumes (no time involved).
        await asyncio.sleep(0)
        assert one.peek(se, "istio-system", SE_NAME) is not None
        stores["cluster2"].mutate(kinds.SERVICE, "httpbin", "in-ambient", relabel(None))
        await until(
            lambda: all(
                s.peek(se, "istio-system", SE_NAME) is None for s in stores.values()
            ),
            "the ServiceEntry goes with the last label",
        )
        # A waypoint Gateway: Deployment, Service, Programmed, then it routes.
        seed(one, copy.deepcopy(WAYPOINT))
        key = ("cluster1", "httpbin", "httpbin-waypoint")
        shared = lab.waypoints
        await until(lambda: key in shared, "the waypoint routes once ready")
        assert one.peek(kinds.SERVICE, "httpbin", "httpbin-waypoint") is not None
        assert shared[key].proxy.locality.zone == "us-east-1a"
        gateway_kind = meshcontrol.GATEWAY_API
        assert gateway_kind is not None
        gateway = one.peek(gateway_kind, "httpbin", "httpbin-waypoint")
        assert gateway is not None
        types = {c["type"] for c in gateway["status"]["conditions"]}
        assert types == {"Accepted", "Programmed"}
        one.delete(gateway_kind, "httpbin", "httpbin-waypoint")
        await until(lambda: key not in shared, "the waypoint goes with its Gateway")
        assert one.peek(kinds.DEPLOYMENT, "httpbin", "httpbin-waypoint") is None
        assert one.peek(kinds.SERVICE, "httpbin", "httpbin-waypoint") is None
    finally:
        await lab.stop()


def test_reactions_to_waypoints_and_global_services(tmp_path: Any) -> None:
    data = topology_dict("guide-001")
    data["timing"] = FAST_TIMING
    lab = Lab(topology.load(write_topology(data, tmp_path)))
    asyncio.run(session(lab))
