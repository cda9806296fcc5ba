"""Laws of the model, checked with hypothesis over random meshes."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from mesh_factories import dr_with, ep, proxy, service

from chaosext.mesh import Endpoint, assignment, predict
from chaosext.mesh.envoy import priority_load

LOCALITIES = ["r1/z1", "r1/z2", "r2/z1", "r2/z2", "r3/z1"]
DRS: list[dict[str, Any] | None] = [
    None,
    dr_with(None, {}),
    dr_with(None, {"minHealthPercent": 50}),
    dr_with({"enabled": False}, {}),
    dr_with({"distribute": [{"from": "r1/*", "to": {"r1": 60, "r2": 40}}]}, {}),
    dr_with({"distribute": [{"from": "*", "to": {"r2/z1": 100}}]}),
    dr_with(
        {
            "failoverPriority": [
                "topology.kubernetes.io/zone",
                "topology.kubernetes.io/region",
            ]
        },
        {},
    ),
    dr_with({"failover": [{"from": "r1", "to": "r3"}]}, {}),
]


@st.composite
def meshes(draw: st.DrawFn) -> tuple[list[Endpoint], set[str]]:
    """Random endpoints over a few localities, and a random unhealthy subset."""
    count = draw(st.integers(min_value=0, max_value=8))
    endpoints = [
        ep(
            f"e{i}",
            draw(st.sampled_from(LOCALITIES)),
            draw(st.sampled_from(["c1", "c2"])),
            network=draw(st.sampled_from(["n1", "n2"])),
            weight=draw(st.integers(min_value=1, max_value=3)),
            ready=draw(st.booleans()),
        )
        for i in range(count)
    ]
    unhealthy = {e.name for e in endpoints if draw(st.booleans())}
    return endpoints, unhealthy


KINDS = st.sampled_from(["gateway", "sidecar", "waypoint", "ztunnel"])
DISTRIBUTIONS = st.sampled_from(
    [None, "PreferClose", "PreferSameNode", "PreferNetwork"]
)


@settings(max_examples=300, deadline=None)
@given(
    meshes(), st.sampled_from(DRS), DISTRIBUTIONS, KINDS, st.sampled_from(LOCALITIES)
)
def test_shares_sum_to_one_or_are_empty(mesh, dr, distribution, kind, where):
    """Predicted shares are positive, over known endpoints, and sum to 1 (or are {})."""
    endpoints, unhealthy = mesh
    shares = predict(
        proxy(kind, where), service(dr, distribution), endpoints, unhealthy=unhealthy
    )
    assert set(shares) <= {e.name for e in endpoints}
    assert all(v > 0 for v in shares.values())
    assert shares == {} or abs(sum(shares.values()) - 1.0) < 1e-9


@settings(max_examples=300, deadline=None)
@given(meshes(), st.sampled_from(DRS), DISTRIBUTIONS, st.sampled_from(LOCALITIES))
def test_healthy_priority_zero_takes_everything(mesh, dr, distribution, where):
    """If P0's healthy share reaches 1/1.4, no request goes below P0."""
    endpoints, unhealthy = mesh
    p = proxy("sidecar", where)
    svc = service(dr, distribution)
    a = assignment(p, svc, endpoints)
    p0 = [e for g in a.groups if g.priority == 0 for e in g.endpoints]
    healthy = [e for e in p0 if e.ready and e.name not in unhealthy]
    if not p0 or 140 * len(healthy) < 100 * len(p0):
        return
    shares = predict(p, svc, endpoints, unhealthy=unhealthy)
    assert abs(sum(shares.get(e.name, 0.0) for e in p0) - 1.0) < 1e-9


@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=5),
    st.sampled_from([0, 50, 100]),
)
def test_priority_loads_sum_to_100(raw, threshold):
    """Priority loads always add up to 100."""
    counts = [(n, min(h, n)) for n, h in raw]
    assert sum(priority_load(counts, threshold).loads) == 100
