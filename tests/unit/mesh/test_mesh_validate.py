"""validate_destination_rule() and parse_duration()."""

import pytest
from mesh_factories import GUIDE_000_DR, GUIDE_001_WAYPOINT_DR, dr_with

from chaosext.mesh import parse_duration, validate_destination_rule

LB = "trafficPolicy.loadBalancer.localityLbSetting"


@pytest.mark.parametrize("spec", [GUIDE_000_DR, GUIDE_001_WAYPOINT_DR])
def test_guide_destination_rules_are_valid(spec):
    """Both guides' DRs produce no message."""
    assert validate_destination_rule(spec) == []


@pytest.mark.parametrize(
    "sources",
    [
        ["r1/r1-a/*", "r1/*", "*"],
        ["r1/r1-a", "r1/r1-b", "r2"],
        ["r1/r1-a/s1", "r1/r1-a/s2", "r1/*"],
        ["r1/r1-a", "r1/*"],
    ],
)
def test_narrower_from_before_a_wider_one_is_valid(sources):
    """istio `pkg/config/validation/agent/validation.go` `validateLocalities`: only an
    earlier, wider entry makes a `from` invalid (the first match wins at run time)."""
    spec = dr_with(
        {"distribute": [{"from": s, "to": {"r1": 100}} for s in sources]}, None
    )
    assert validate_destination_rule(spec) == []


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        (["*", "r1/r1-a"], "'r1/r1-a' overlaps '*'"),
        (["r1/*", "r1/r1-a/*"], "'r1/r1-a/*' overlaps 'r1/*'"),
        (["r1", "r1/r1-a"], "'r1/r1-a' overlaps 'r1'"),
        (["r1/r1-a", "r1/r1-a/s1"], "'r1/r1-a/s1' overlaps 'r1/r1-a'"),
        # validateLocalities also refuses a bare region after anything in it, and a
        # zone after one of its subzones (its index, not only "wider", decides)
        (["r1/r1-a", "r1"], "'r1' overlaps 'r1/r1-a'"),
        (["r1/r1-a/s1", "r1/r1-a"], "'r1/r1-a' overlaps 'r1/r1-a/s1'"),
    ],
)
def test_from_after_a_covering_entry_is_refused(sources, message):
    """`validateLocalities`: the entries its index says overlap an earlier one."""
    spec = dr_with(
        {"distribute": [{"from": s, "to": {"r1": 100}} for s in sources]}, None
    )
    assert validate_destination_rule(spec) == [f"{LB}.distribute: from {message}"]


@pytest.mark.parametrize(
    ("locality_lb", "outlier", "message"),
    [
        (
            {"distribute": [{"from": "r1", "to": {"r1": 50, "r2": 40}}]},
            None,
            f"{LB}.distribute[0].to: weights sum to 90, not 100",
        ),
        (
            {"distribute": [{"from": "r1", "to": {"r1": 0, "r2": 100}}]},
            None,
            f"{LB}.distribute[0].to['r1']: weight 0 is not in [1, 100]",
        ),
        (
            {
                "distribute": [{"from": "r1", "to": {"r1": 100}}],
                "failover": [{"from": "r1", "to": "r2"}],
            },
            {},
            f"{LB}: distribute and failover can not be set together",
        ),
        (
            {
                "distribute": [
                    {"from": "r1", "to": {"r1": 100}},
                    {"from": "r1", "to": {"r2": 100}},
                ]
            },
            None,
            f"{LB}.distribute: from 'r1' overlaps 'r1'",
        ),
        (
            {
                "distribute": [
                    {"from": "r1/*", "to": {"r1": 100}},
                    {"from": "r1/z1", "to": {"r2": 100}},
                ]
            },
            None,
            f"{LB}.distribute: from 'r1/z1' overlaps 'r1/*'",
        ),
        (
            {"distribute": [{"from": "r1", "to": {"r1/*": 50, "r1/z1": 50}}]},
            None,
            f"{LB}.distribute[0].to: 'r1/z1' overlaps 'r1/*'",
        ),
        (
            {"distribute": [{"from": "r1/*/z", "to": {"r1": 100}}]},
            None,
            f"{LB}.distribute: from 'r1/*/z': at most one '*' wildcard, "
            "and only at the end",
        ),
        (
            {"failover": [{"from": "r1", "to": "r1"}]},
            {},
            f"{LB}.failover[0]: from and to are both 'r1' (must differ)",
        ),
        (
            {"failover": [{"from": "r1/z1", "to": "r2"}]},
            {},
            f"{LB}.failover[0]: from/to must be regions only (no '/')",
        ),
        (
            {"failover": [{"from": "*", "to": "r2"}]},
            {},
            f"{LB}.failover[0]: from/to must not contain the '*' wildcard",
        ),
        (
            {
                "failover": [{"from": "r1", "to": "r2"}],
                "failoverPriority": ["topology.kubernetes.io/region"],
            },
            {},
            f"{LB}.failoverPriority[0]: topology label 'topology.kubernetes.io/region' "
            "can not be used together with failover",
        ),
        (
            {
                "distribute": [{"from": "r1", "to": {"r1": 100}}],
                "failoverPriority": ["tier"],
            },
            None,
            f"warning: {LB}: distribute and failoverPriority are both set; "
            "distribute wins and failoverPriority is ignored",
        ),
        (
            {"failoverPriority": ["tier"]},
            None,
            "warning: trafficPolicy.outlierDetection: not set, so failover/"
            "failoverPriority does nothing (Istio fails over only with outlier "
            "detection)",
        ),
        (
            None,
            {"interval": "1x"},
            "trafficPolicy.outlierDetection.interval: '1x' is not a duration "
            "(expected text like 1s, 100ms, 3m)",
        ),
        (
            None,
            {"baseEjectionTime": "100us"},
            "trafficPolicy.outlierDetection.baseEjectionTime: '100us' is too short "
            "(at least 1ms)",
        ),
        (
            None,
            {"maxEjectionPercent": 150},
            "trafficPolicy.outlierDetection.maxEjectionPercent: 150 is not a "
            "percentage 0..100",
        ),
        (
            None,
            {"consecutive5xxErrors": -1},
            "trafficPolicy.outlierDetection.consecutive5xxErrors: -1 is not a whole "
            "number >= 0",
        ),
    ],
)
def test_messages_name_the_field(locality_lb, outlier, message):
    """Each problem yields a message naming the field."""
    assert message in validate_destination_rule(dr_with(locality_lb, outlier))


def test_warnings_can_be_left_out():
    """warnings=False returns errors only."""
    spec = dr_with({"failoverPriority": ["tier"]})
    assert validate_destination_rule(spec, warnings=False) == []


def test_missing_host_is_reported():
    """host is required."""
    assert "host: required" in validate_destination_rule(
        {"trafficPolicy": {"outlierDetection": {}}}
    )


def test_whole_object_is_refused_with_a_hint():
    """Passing the whole object instead of its spec says so."""
    whole = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "spec": {},
    }
    assert validate_destination_rule(whole) == [
        "spec: got a whole DestinationRule object; pass its `spec`"
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("3m", 180.0),
        ("100ms", 0.1),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        ("0", 0.0),
        ("250us", 0.00025),
        ("-2s", -2.0),
    ],
)
def test_parse_duration(text, seconds):
    """Go duration text parses to seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1", "s", "1x", "1s2", "one second", "1 s"])
def test_parse_duration_rejects_bad_text(text):
    """Malformed durations raise ValueError."""
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
