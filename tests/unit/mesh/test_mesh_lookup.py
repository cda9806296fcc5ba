"""istiod's DestinationRule lookup (`chaosext.mesh.lookup`).

Follows istio/istio 1.30 `pilot/pkg/model/push_context.go` (`setDestinationRules`,
`destinationRule`, `getExportedDestinationRuleFromNamespace`),
`pilot/pkg/model/destination_rule.go` (`mergeDestinationRule`),
`pilot/pkg/model/sidecar.go` (`SidecarScope.DestinationRule`) and
`pkg/config/host` (`MostSpecificHostMatch`).
"""

from typing import Any

import pytest

from chaosext.mesh import lookup

HOST = "reviews.shop.svc.cluster.local"


def rule(
    name: str,
    namespace: str,
    host: str = HOST,
    created: str = "2026-01-01T00:00:00Z",
    **spec: Any,
) -> lookup.Rule:
    return lookup.Rule(name, namespace, {"host": host, **spec}, created)


def found(
    rules: list[lookup.Rule],
    proxy_namespace: str = "front",
    service_namespace: str = "shop",
    **kw: Any,
) -> str | None:
    """`namespace/name` of the rule that applies (first merged), or None."""
    result = lookup.destination_rule(
        rules,
        HOST,
        proxy_namespace=proxy_namespace,
        service_namespace=service_namespace,
        **kw,
    )
    return result.rules[0] if result else None


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([rule("a", "front"), rule("b", "shop"), rule("c", "istio-system")], "front/a"),
        ([rule("b", "shop"), rule("c", "istio-system")], "shop/b"),
        ([rule("c", "istio-system")], "istio-system/c"),
        ([rule("x", "elsewhere")], None),
    ],
)
def test_proxy_namespace_then_service_then_root(rules, expected):
    """`destinationRule`: the proxy's namespace, then the service's, then the root."""
    assert found(rules) == expected


def test_root_namespace_proxy_looks_in_the_service_namespace_first():
    """A proxy in the root namespace (an ingress gateway) prefers the service's
    namespace over the root's exported catch-all."""
    rules = [rule("catch-all", "istio-system", host="*"), rule("svc", "shop")]
    assert found(rules, proxy_namespace="istio-system") == "shop/svc"


def test_root_namespace_proxy_uses_a_private_root_rule_first():
    """`rootNamespaceLocal`: an `exportTo: ["."]` rule in the root namespace applies
    to proxies there before the service's namespace is searched."""
    rules = [rule("private", "istio-system", exportTo=["."]), rule("svc", "shop")]
    assert found(rules, proxy_namespace="istio-system") == "istio-system/private"


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (["*", "*.svc.cluster.local", HOST], HOST),
        (
            ["*", "*.svc.cluster.local", "*.shop.svc.cluster.local"],
            "*.shop.svc.cluster.local",
        ),
        (["*", "*.svc.cluster.local"], "*.svc.cluster.local"),
        (["*"], "*"),
        (["*.other.svc.cluster.local", "ratings.shop.svc.cluster.local"], None),
    ],
)
def test_most_specific_host_wins_within_a_namespace(hosts, expected):
    """`MostSpecificHostMatch`: exact, then the longest matching wildcard."""
    rules = [rule(f"r{i}", "shop", host=h) for i, h in enumerate(hosts)]
    result = lookup.destination_rule(
        rules, HOST, proxy_namespace="front", service_namespace="shop"
    )
    assert (result.host if result else None) == expected


def test_more_specific_host_in_a_later_namespace_loses():
    """The namespace order comes first: a `*` rule in the proxy's namespace beats an
    exact rule in the service's namespace."""
    rules = [rule("wild", "front", host="*"), rule("exact", "shop")]
    assert found(rules) == "front/wild"


def test_short_host_is_completed_in_the_rules_namespace():
    """`ResolveShortnameToFQDN`: `reviews` in shop is reviews.shop.svc.cluster.local"""
    assert found([rule("short", "shop", host="reviews")]) == "shop/short"
    assert found([rule("short", "front", host="reviews")]) is None


@pytest.mark.parametrize(
    ("export_to", "expected"),
    [
        (None, "shop/svc"),
        (["*"], "shop/svc"),
        (["front"], "shop/svc"),
        (["."], None),
        (["shop"], None),
        (["other"], None),
        (["~"], None),
    ],
)
def test_export_to_decides_who_sees_a_service_namespace_rule(export_to, expected):
    """`getExportedDestinationRuleFromNamespace`: only rules exported to the proxy's
    namespace apply from another namespace."""
    spec = {"exportTo": export_to} if export_to is not None else {}
    assert found([rule("svc", "shop", **spec)]) == expected


def test_private_rule_applies_in_its_own_namespace():
    """An `exportTo: ["."]` rule applies to proxies of its own namespace."""
    assert found([rule("svc", "shop", exportTo=["."])], proxy_namespace="shop") == (
        "shop/svc"
    )


def test_unexported_rule_falls_through_to_the_root_namespace():
    """A service-namespace rule hidden from the proxy does not stop the search."""
    rules = [rule("hidden", "shop", exportTo=["."]), rule("mesh", "istio-system")]
    assert found(rules) == "istio-system/mesh"


def test_default_export_to_private_hides_unmarked_rules():
    """`defaultDestinationRuleExportTo: "."` makes rules without exportTo private."""
    assert found([rule("svc", "shop")], default_export_to=".") is None


def test_rules_for_one_host_in_one_namespace_merge_oldest_first():
    """`mergeDestinationRule`: the oldest rule's trafficPolicy wins whole; subsets
    with new names are appended."""
    old = rule(
        "old",
        "shop",
        created="2026-01-01T00:00:00Z",
        trafficPolicy={"outlierDetection": {"consecutive5xxErrors": 1}},
        subsets=[{"name": "v1"}],
    )
    new = rule(
        "new",
        "shop",
        created="2026-01-02T00:00:00Z",
        trafficPolicy={"loadBalancer": {"simple": "RANDOM"}},
        subsets=[{"name": "v1"}, {"name": "v2"}],
    )
    result = lookup.destination_rule(
        [new, old], HOST, proxy_namespace="front", service_namespace="shop"
    )
    assert result is not None
    assert result.rules == ("shop/old", "shop/new")
    assert result.spec["trafficPolicy"] == {
        "outlierDetection": {"consecutive5xxErrors": 1}
    }
    assert [s["name"] for s in result.spec["subsets"]] == ["v1", "v2"]


def test_workload_selector_rule_applies_only_to_matching_proxies():
    """`SidecarScope.DestinationRule`: a rule selecting the proxy beats the
    catch-all of its namespace; other proxies get the catch-all."""
    rules = [
        rule("all", "front"),
        rule("canary", "front", workloadSelector={"matchLabels": {"app": "canary"}}),
    ]
    assert found(rules, proxy_labels={"app": "canary"}) == "front/canary"
    assert found(rules, proxy_labels={"app": "web"}) == "front/all"


def test_workload_selector_rule_is_never_exported():
    """A rule with a workloadSelector is private to its namespace."""
    rules = [rule("sel", "shop", workloadSelector={"matchLabels": {"app": "web"}})]
    assert found(rules, proxy_labels={"app": "web"}) is None


def test_found_says_where_it_was_found():
    """`Found.step` and `Found.namespace` name the lookup step that matched."""
    result = lookup.destination_rule(
        [rule("mesh", "istio-system", host="*")],
        HOST,
        proxy_namespace="front",
        service_namespace="shop",
    )
    assert result is not None
    assert (result.step, result.namespace, result.host) == (
        lookup.ROOT_NAMESPACE,
        "istio-system",
        "*",
    )


def test_from_object_reads_an_api_object():
    """`Rule.from_object` takes name, namespace, spec and creation time."""
    obj = {
        "metadata": {
            "name": "dr",
            "namespace": "shop",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"host": "reviews"},
    }
    parsed = lookup.Rule.from_object(obj)
    assert (parsed.name, parsed.namespace, parsed.host) == ("dr", "shop", HOST)
