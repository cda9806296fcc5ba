"""`meshdrill lab explain`: predictions from the shipped topologies, no lab running."""

import io
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from chaosext import cli
from chaosext.lab import explain, topology
from chaosext.lab.prediction import PredictionError, Selector, World

GLOBAL_HOST = "in-ambient.httpbin.mesh.internal"
CLIENT = "client-in-ambient"


@pytest.fixture(scope="module")
def guide000() -> World:
    return World.from_topology(topology.load("guide-000"))


@pytest.fixture(scope="module")
def guide001() -> World:
    return World.from_topology(topology.load("guide-001"))


@pytest.fixture(scope="module")
def waypoint001() -> World:
    return World.from_topology(topology.load("guide-001-waypoint"))


def by_zone(
    world: World,
    down: tuple[str, ...] = (),
    eject: tuple[str, ...] = (),
    traffic_distribution: str | None = None,
) -> dict[str, float]:
    """cluster1's client: predicted share per zone (zones with traffic only)."""
    prediction = world.predict(
        "cluster1",
        CLIENT,
        GLOBAL_HOST,
        down=[Selector.parse(s) for s in down],
        eject=[Selector.parse(s) for s in eject],
        traffic_distribution=traffic_distribution,
    )
    return {z: round(s, 6) for z, s in prediction.by("zone").items() if s > 0}


def test_topology_pods_are_placed_one_per_zone(guide001: World) -> None:
    """Replicas are spread over zones and named <deploy>-<cluster>-<zone>-<i>."""
    prediction = guide001.predict("cluster1", CLIENT, GLOBAL_HOST)
    assert sorted(r.pod for r in prediction.rows) == [
        "in-ambient-cluster1-us-east-1a-0",
        "in-ambient-cluster1-us-east-1b-0",
        "in-ambient-cluster2-us-west-2a-0",
        "in-ambient-cluster2-us-west-2b-0",
    ]


def test_guide000_gateway_splits_50_50(guide000: World) -> None:
    """Guide 000: both regions healthy, the cluster-a gateway splits 50/50."""
    prediction = guide000.predict(
        "cluster-a", "istio-ingressgateway", "hello-world.default.svc.cluster.local"
    )
    assert prediction.by("cluster") == pytest.approx(
        {"cluster-a": 0.5, "cluster-b": 0.5}
    )


def test_guide000_cluster_a_down_goes_to_b(guide000: World) -> None:
    """Guide 000: cluster A unavailable, 100% to cluster B."""
    prediction = guide000.predict(
        "cluster-a",
        "istio-ingressgateway",
        "hello-world.default.svc.cluster.local",
        down=[Selector.parse("cluster=cluster-a")],
    )
    assert prediction.by("cluster") == pytest.approx({"cluster-b": 1.0})


def test_guide001_default_prefer_network_stays_in_cluster(guide001: World) -> None:
    """Guide 001 step 3: PreferNetwork (vendor default) keeps traffic in cluster1."""
    prediction = guide001.predict("cluster1", CLIENT, GLOBAL_HOST)
    assert prediction.by("cluster") == pytest.approx({"cluster1": 1.0, "cluster2": 0.0})
    assert any("PreferNetwork is a vendor value" in n for n in prediction.notes)


def test_guide001_prefer_network_fails_over_to_cluster2(guide001: World) -> None:
    """Guide 001 step 3: cluster1 scaled to zero, cluster2 answers."""
    prediction = guide001.predict(
        "cluster1", CLIENT, GLOBAL_HOST, down=[Selector.parse("cluster=cluster1")]
    )
    assert prediction.by("cluster") == pytest.approx({"cluster2": 1.0})


@pytest.mark.parametrize(
    ("down", "expected"),
    [
        ([], {"us-east-1a": 1.0}),
        (["zone=us-east-1a"], {"us-east-1b": 1.0}),
        (["cluster=cluster1"], {"us-west-2a": 0.5, "us-west-2b": 0.5}),
    ],
)
def test_guide001_prefer_close_table(
    guide001: World, down: list[str], expected: dict[str, float]
) -> None:
    """Guide 001 step 4 with PreferClose: same zone, then same region, then other."""
    zones = by_zone(guide001, down=tuple(down), traffic_distribution="PreferClose")
    assert zones == expected


def test_prefer_close_priorities(guide001: World) -> None:
    """PreferClose ranks same zone 0, same region 1, other region 2 (ztunnel)."""
    prediction = guide001.predict(
        "cluster1", CLIENT, GLOBAL_HOST, traffic_distribution="PreferClose"
    )
    assert {r.zone: r.priority for r in prediction.rows} == {
        "us-east-1a": 0,
        "us-east-1b": 1,
        "us-west-2a": 2,
        "us-west-2b": 2,
    }


def test_no_traffic_distribution_spreads_everywhere(guide001: World) -> None:
    """`--traffic-distribution none`: ztunnel Standard mode, every endpoint equal."""
    zones = by_zone(guide001, traffic_distribution="none")
    assert zones == dict.fromkeys(
        ("us-east-1a", "us-east-1b", "us-west-2a", "us-west-2b"), 0.25
    )


def test_ztunnel_ignores_ejection(guide001: World) -> None:
    """ztunnel has no outlier detection: an ejected pod keeps its share."""
    prediction = guide001.predict(
        "cluster1",
        CLIENT,
        GLOBAL_HOST,
        traffic_distribution="PreferClose",
        eject=[Selector.parse("zone=us-east-1a")],
    )
    assert prediction.by("zone")["us-east-1a"] == pytest.approx(1.0)
    assert any("no outlier detection" in n for n in prediction.notes)


def test_waypoint_client_goes_through_its_clusters_waypoint(waypoint001: World) -> None:
    """With istio.io/use-waypoint, cluster1's waypoint routes cluster1's client."""
    prediction = waypoint001.predict("cluster1", CLIENT, GLOBAL_HOST)
    assert prediction.chooser.kind == "waypoint"
    assert prediction.chooser.cluster == "cluster1"
    assert "via waypoint httpbin-waypoint" in prediction.via
    assert prediction.by("zone")["us-east-1a"] == pytest.approx(1.0)


def test_waypoint_applies_failover_priority_zone_first(waypoint001: World) -> None:
    """The guide's failoverPriority [zone, region]: a zone mismatch is already the
    lowest priority, so us-east-1b and us-west-2 share priority 1 (Istio's rule)."""
    prediction = waypoint001.predict(
        "cluster1", CLIENT, GLOBAL_HOST, down=[Selector.parse("zone=us-east-1a")]
    )
    assert {r.zone: r.priority for r in prediction.rows} == {
        "us-east-1b": 0,
        "us-west-2a": 0,
        "us-west-2b": 0,
    }


def test_waypoint_ejection_spills(waypoint001: World) -> None:
    """At the waypoint (Envoy), an ejected same-zone pod spills to priority 1."""
    zones = by_zone(waypoint001, eject=("zone=us-east-1a",))
    third = round(1 / 3, 6)
    assert zones == {"us-east-1b": third, "us-west-2a": third, "us-west-2b": third}


def test_cluster2_client_uses_cluster2_waypoint(waypoint001: World) -> None:
    """The waypoint of the client's own cluster decides: cluster2 stays local."""
    prediction = waypoint001.predict("cluster2", CLIENT, GLOBAL_HOST)
    assert prediction.chooser.cluster == "cluster2"
    assert prediction.by("zone")["us-west-2a"] == pytest.approx(1.0)


def test_waypoint_itself_can_be_explained(waypoint001: World) -> None:
    """`--client` also takes a waypoint name."""
    prediction = waypoint001.predict("cluster2", "httpbin-waypoint", GLOBAL_HOST)
    assert prediction.chooser.kind == "waypoint"
    assert prediction.via == "waypoint httpbin-waypoint"


@pytest.mark.parametrize(
    ("cluster", "name", "host", "words"),
    [
        ("cluster3", CLIENT, GLOBAL_HOST, "unknown cluster 'cluster3'"),
        ("cluster1", "nobody", GLOBAL_HOST, "(there: client-in-ambient)"),
        ("cluster1", CLIENT, "nope.example", "no Service serves host 'nope.example'"),
    ],
)
def test_bad_questions_say_what_exists(
    guide001: World, cluster: str, name: str, host: str, words: str
) -> None:
    """Unknown clusters, choosers and hosts fail naming what does exist."""
    with pytest.raises(
        PredictionError, match=words.replace("(", r"\(").replace(")", r"\)")
    ):
        guide001.predict(cluster, name, host)


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("pod-a", "pod", "pod-a"),
        ("zone=z1", "zone", "z1"),
        ("cluster=c", "cluster", "c"),
    ],
)
def test_selector_parse(text: str, key: str, value: str) -> None:
    """A bare word is a pod name; key=value selects by cluster, region or zone."""
    assert Selector.parse(text) == Selector(key, value)


@pytest.mark.parametrize("text", ["node=n1", "zone="])
def test_selector_rejects_unknown_keys(text: str) -> None:
    """Only cluster=, region= and zone= are selector keys."""
    with pytest.raises(PredictionError, match="use a pod name or cluster="):
        Selector.parse(text)


def test_selector_matching_nothing_is_an_error(guide001: World) -> None:
    """A selector that matches no endpoint (a typo) is refused, listing the pods."""
    with pytest.raises(PredictionError, match="matches no endpoint"):
        guide001.predict(
            "cluster1", CLIENT, GLOBAL_HOST, down=[Selector.parse("zone=us-east-9z")]
        )


SELECTORS = st.lists(
    st.sampled_from(
        ["zone=us-east-1a", "zone=us-east-1b", "zone=us-west-2a", "cluster=cluster2"]
    ),
    max_size=3,
    unique=True,
)


@settings(max_examples=25, deadline=None)
@given(down=SELECTORS, eject=SELECTORS, mode=st.sampled_from(["PreferClose", "none"]))
def test_shares_sum_to_one_or_nothing(
    waypoint001: World, down: list[str], eject: list[str], mode: str
) -> None:
    """Shares sum to 1 unless every request fails (then all are 0)."""
    try:
        prediction = waypoint001.predict(
            "cluster1",
            CLIENT,
            GLOBAL_HOST,
            traffic_distribution=mode,
            down=[Selector.parse(s) for s in down],
            eject=[Selector.parse(s) for s in eject if s not in down],
        )
    except PredictionError:
        return  # every endpoint went down: nothing left to eject
    total = math.fsum(r.share for r in prediction.rows)
    assert total == pytest.approx(1.0) or total == 0.0


# -- the command ---------------------------------------------------------------------


def test_cli_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` gives endpoints with pod, cluster, region, zone, priority, share."""
    code = cli.main(
        [
            "lab",
            "explain",
            "--topology",
            "guide-000",
            "--cluster",
            "cluster-a",
            "--client",
            "istio-ingressgateway",
            "--down",
            "cluster=cluster-a",
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [set(e) for e in data["endpoints"]] == [
        {"pod", "cluster", "region", "zone", "priority", "share"}
    ] * 2
    assert {e["cluster"] for e in data["endpoints"]} == {"cluster-b"}
    assert sum(e["share"] for e in data["endpoints"]) == pytest.approx(1.0)


def test_cli_default_host_is_the_namespace_global_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --host a client gets its namespace's global (mesh.internal) host."""
    code = cli.main(
        [
            "lab",
            "explain",
            "--topology",
            "guide-001",
            "--cluster",
            "cluster1",
            "--client",
            CLIENT,
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["host"] == GLOBAL_HOST


def test_cli_error_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad question exits 2 with one line naming what is wrong."""
    code = cli.main(
        [
            "lab",
            "explain",
            "--topology",
            "guide-001",
            "--cluster",
            "cluster1",
            "--client",
            "ghost",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "ghost" in err


def test_table_lists_every_endpoint() -> None:
    """The rich table shows each endpoint with its priority and share."""
    world = World.from_topology(topology.load("guide-001"))
    prediction = world.predict(
        "cluster1", CLIENT, GLOBAL_HOST, traffic_distribution="PreferClose"
    )
    out = io.StringIO()
    Console(file=out, width=200).print(explain.as_table(prediction))
    text = out.getvalue()
    assert "in-ambient-cluster1-us-east-1a-0" in text
    assert "100.0%" in text
    assert text.count("0.0%") >= 3


def test_split_table_covers_clients_and_gateways() -> None:
    """`lab status`'s predicted-split table has a row per client and gateway."""
    world = World.from_topology(topology.load("guide-001"))
    out = io.StringIO()
    Console(file=out, width=200).print(explain.split_table(world))
    text = out.getvalue()
    assert "cluster1/us-east-1a 50%, cluster1/us-east-1b 50%" in text
    assert "cluster2/us-west-2a 50%, cluster2/us-west-2b 50%" in text
