"""A `MeshState` from a lab topology's objects, without starting a lab (fast tests
of what reads a mesh; `test_explain_agreement` proves the HTTP read equivalent)."""

import copy
from pathlib import Path

from chaosext.lab import kinds, topology
from chaosext.lab.prediction import World
from chaosext.live.state import ClusterObjects, MeshState
from chaosext.mesh import lookup


def state_of(world: World) -> MeshState:
    """The objects of every cluster of `world`, as the reader would hold them."""
    state = MeshState({})
    for name, store in world.stores.items():
        state.clusters[name] = ClusterObjects(
            context=name,
            server=f"lab://{name}",
            nodes={
                n["metadata"]["name"]: dict(n["metadata"].get("labels") or {})
                for n in store.objects(kinds.NODE)
            },
            namespaces={
                n["metadata"]["name"]: copy.deepcopy(n)
                for n in store.objects(kinds.NAMESPACE)
            },
            pods=[copy.deepcopy(p) for p in store.objects(kinds.POD)],
            services=[copy.deepcopy(s) for s in store.objects(kinds.SERVICE)],
            deployments=[copy.deepcopy(d) for d in store.objects(kinds.DEPLOYMENT)],
            rules=[
                lookup.Rule.from_object(r)
                for r in store.objects(kinds.DESTINATION_RULE)
            ],
        )
    return state


def state_from(source: str | Path) -> MeshState:
    """`state_of` a shipped topology name or a topology file."""
    return state_of(World.from_topology(topology.load(str(source))))
