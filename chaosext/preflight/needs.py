"""What each failover tier needs of the mesh, and what a check is aimed at.

A tier needs ready pods of the workload where it will send traffic (`spread`):
two zones of the client's region for the zone tiers, the client's region and
another for the region tiers, the client's cluster and another for the cluster
tiers. Some tiers are decided by a DestinationRule (`destination_rule`), and
some need outlier detection whatever the rule says (`ejection`: the outlier
tier ejects failing pods). Tier names are the experiments' `tier:` tags.
"""

from dataclasses import dataclass

from chaosext.clusters import ClusterError

__all__ = ["TIERS", "ClientRef", "Target", "TierNeeds", "parse_client", "tier_needs"]


@dataclass(frozen=True)
class TierNeeds:
    spread: str  # "zone" | "region" | "cluster" | "" (no placement need)
    destination_rule: bool = False
    ejection: bool = False


TIERS: dict[str, TierNeeds] = {
    "region-outage": TierNeeds("region", destination_rule=True),
    "cluster-failover": TierNeeds("cluster"),
    "zone-failover": TierNeeds("zone"),
    "zone-outage": TierNeeds("zone"),
    "region-failover": TierNeeds("region"),
    "waypoint-failover": TierNeeds("cluster", destination_rule=True),
    "outlier-ejection": TierNeeds("cluster", destination_rule=True, ejection=True),
    # istiod down: only outlier detection takes the gone pods' endpoints out
    "control-plane-outage": TierNeeds("cluster", ejection=True),
    "slow-upstream": TierNeeds("region", destination_rule=True),
    "eastwest-outage": TierNeeds("cluster"),
    "conformance": TierNeeds(""),  # whatever the config says: ready pods only
}
NO_TIER = TierNeeds("")


def tier_needs(tier: str) -> TierNeeds:
    """The needs of `tier` ("" for none); ClusterError naming the known tiers."""
    if not tier:
        return NO_TIER
    try:
        return TIERS[tier]
    except KeyError:
        raise ClusterError(
            f"unknown tier '{tier}': choose one of {', '.join(TIERS)}"
        ) from None


@dataclass(frozen=True)
class ClientRef:
    """The client whose traffic a drill measures: a pod, `deploy/NAME` or `svc/NAME`.

    A Service (an ingress gateway's) stands for the first running pod it selects.
    """

    context: str
    namespace: str
    ref: str

    def describe(self) -> str:
        return f"client {self.namespace}/{self.ref} ({self.context})"


def parse_client(text: str, context: str) -> ClientRef:
    """`NAMESPACE/REF` (REF: NAME, pod/NAME, deploy/NAME, svc/NAME) in `context`."""
    namespace, _, ref = text.partition("/")
    if not namespace or not ref:
        raise ClusterError(
            f"client '{text}': write NAMESPACE/NAME, NAMESPACE/deploy/NAME or"
            " NAMESPACE/svc/NAME"
        )
    return ClientRef(context, namespace, ref)


@dataclass(frozen=True)
class Target:
    """What a check is aimed at: the workload's Service, its client, the tier."""

    namespace: str = ""
    service: str = ""
    client: ClientRef | None = None
    tier: str = ""
    placement: bool = True  # False: pods need only be ready, anywhere

    @property
    def needs(self) -> TierNeeds:
        needs = tier_needs(self.tier)
        if not self.placement:
            return TierNeeds("", needs.destination_rule, needs.ejection)
        return needs
