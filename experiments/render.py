"""Render the tier experiments from one shared shape: `python experiments/render.py`.

Every tier experiment is the same drill: a steady-state hypothesis that measures
where traffic goes, a fault, a wait for the failover (timed), a repair, a wait for
the recovery (timed), the same hypothesis again, rollbacks that undo the fault,
and the one meshdrill control that brings the lab, the guard, the restore, the
verdict and the archive. This file is that shape, written once; the JSON files
beside it are its output, each readable on its own, and a test fails if a JSON
file and this file disagree. To add a tier: add a function below, run this file,
commit both.
"""

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WITHIN = {"type": "regex", "target": "verdict", "pattern": "^within$"}
PASSED = {"type": "regex", "target": "verdict", "pattern": "^passed$"}

Json = dict[str, Any]


def py(module: str, func: str, arguments: Json) -> Json:
    return {"type": "python", "module": module, "func": func, "arguments": arguments}


def drill(
    *,
    title: str,
    description: str,
    tags: list[str],
    configuration: Json,
    hypothesis: tuple[str, list[Json]],
    method: list[Json],
    rollbacks: list[Json],
    preflight: Json,
) -> Json:
    """The shared shape of a tier experiment: preflight first, then the steady state."""
    return {
        "version": "1.0.0",
        "title": title,
        "description": description,
        "tags": ["meshdrill", *tags],
        "contributions": {"availability": "high", "reliability": "high"},
        "configuration": {
            "kubeconfig": {
                "type": "env",
                "key": "MESHDRILL_KUBECONFIG",
                "default": "lab",
            },
            # chaoslib drops --var/--var-file keys an experiment does not declare,
            # so every key a var file may set is declared here (empty: unset).
            "allowed_contexts": [],
            "allowed_namespaces": [],
            "journals_dir": "",
            **configuration,
        },
        "controls": [
            {
                "name": "meshdrill",
                "provider": {"type": "python", "module": "chaosext.controls.drill"},
            }
        ],
        "runtime": {"rollbacks": {"strategy": "always"}},
        "steady-state-hypothesis": {
            "title": hypothesis[0],
            "probes": [preflight, *hypothesis[1]],
        },
        "method": method,
        "rollbacks": rollbacks,
    }


def action(name: str, module: str, func: str, arguments: Json) -> Json:
    return {"type": "action", "name": name, "provider": py(module, func, arguments)}


def probe(name: str, module: str, func: str, arguments: Json) -> Json:
    return {"type": "probe", "name": name, "provider": py(module, func, arguments)}


def preflight_probe(tags: list[str], source: Json | str, workload: Json) -> Json:
    """The mesh is what the tier needs (`meshdrill mesh check`), before any change."""
    (tier,) = [t.removeprefix("tier:") for t in tags if t.startswith("tier:")]
    return {
        "type": "probe",
        "name": "preflight",
        "tolerance": PASSED,
        "provider": py(
            "probes.preflight",
            "mesh_preflight",
            {
                "service": "${service}",
                "workload": workload,
                "source": source,
                "tier": tier,
            },
        ),
    }


def split_probe(
    name: str, expected: Json | str, by: str, source: Json | str, workload: Json
) -> Json:
    return {
        "type": "probe",
        "name": name,
        "tolerance": WITHIN,
        "provider": py(
            "probes.split",
            "hostname_split",
            {
                "expected": expected,
                "source": source,
                "workload": workload,
                "by": by,
                "tolerance": "${split_tolerance}",
                "samples": "${samples}",
                "max_samples": "${max_samples}",
            },
        ),
    }


def all_in_probe(name: str, target: str, by: str, source: Json, workload: Json) -> Json:
    return {
        "type": "probe",
        "name": name,
        "tolerance": WITHIN,
        "provider": py(
            "probes.split",
            "traffic_all_in",
            {
                "target": target,
                "source": source,
                "workload": workload,
                "by": by,
                "samples": "${samples}",
            },
        ),
    }


def wait_probe(
    name: str,
    expected: Json | str,
    by: str,
    deadline: str,
    source: Json,
    workload: Json,
    tolerance: str = "${failover_tolerance}",
    **extra: Any,
) -> Json:
    return {
        "type": "probe",
        "name": name,
        "provider": py(
            "probes.waiting",
            "wait_for_split",
            {
                "expected": expected,
                "source": source,
                "workload": workload,
                "by": by,
                "tolerance": tolerance,
                "batch": "${batch}",
                "consecutive": "${consecutive}",
                "deadline": deadline,
                "max_samples": "${max_samples}",
                **extra,
            },
        ),
    }


STATISTICS: Json = {
    "request_timeout": 2.0,
    "samples": 300,
    "max_samples": 2000,
    "batch": 50,
    "consecutive": 3,
    "split_tolerance": 0.1,
    "failover_tolerance": 0.03,
    "failover_deadline": 60,
    "recovery_deadline": 120,
}


# -- guide 001: ambient mesh, sampled from a client pod ----------------------------

G001: Json = {
    "cluster1_context": "cluster1",
    "cluster2_context": "cluster2",
    "namespace": "httpbin",
    "deployment": "in-ambient",
    "service": "in-ambient",
    "selector": "app=in-ambient",
    "client_context": "cluster1",
    "client_namespace": "httpbin",
    "client_pod": "deploy/client-in-ambient",
    "service_url": "in-ambient.httpbin.mesh.internal:8000/hostname",
    "extractor": "bare",
    "client_region": "us-east-1",
    "client_zone": "us-east-1a",
    "other_zone": "us-east-1b",
    "other_region": "us-west-2",
}
G001_SOURCE: Json = {
    "exec": {
        "context": "${client_context}",
        "namespace": "${client_namespace}",
        "pod": "${client_pod}",
    },
    "url": "${service_url}",
    "extractor": "${extractor}",
    "timeout": "${request_timeout}",
}
G001_WORKLOAD: Json = {
    "contexts": ["${cluster1_context}", "${cluster2_context}"],
    "namespace": "${namespace}",
    "selector": "${selector}",
}
SCALE_1: Json = {
    "deployment": "${deployment}",
    "namespace": "${namespace}",
    "context": "${cluster1_context}",
}


def g001_all_in(name: str, target: str, by: str) -> Json:
    return all_in_probe(name, target, by, G001_SOURCE, G001_WORKLOAD)


def g001_wait(name: str, target: str, by: str, deadline: str) -> Json:
    return wait_probe(name, {target: 1.0}, by, deadline, G001_SOURCE, G001_WORKLOAD)


def scale_cluster1_drill(
    *,
    title: str,
    description: str,
    tags: list[str],
    topology: str,
    steady: tuple[str, str, str],
    failover: tuple[str, str, str],
) -> Json:
    """Scale the workload in cluster 1 to zero, and back (guide 001 steps 3, 4, 6)."""
    name, target, by = steady
    return drill(
        title=title,
        description=description,
        tags=tags,
        configuration={"lab_topology": topology, **G001, **STATISTICS},
        preflight=preflight_probe(tags, G001_SOURCE, G001_WORKLOAD),
        hypothesis=(
            f"The client's traffic stays {name}",
            [g001_all_in(name, target, by)],
        ),
        method=[
            action(
                "scale-cluster1-to-zero",
                "chaosext.actions.scale",
                "scale_to_zero",
                SCALE_1,
            ),
            g001_wait(*failover, "${failover_deadline}"),
            action(
                "scale-cluster1-back",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_1,
            ),
            g001_wait(f"traffic-returns-{name}", target, by, "${recovery_deadline}"),
        ],
        rollbacks=[
            action(
                "restore-cluster1-replicas",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_1,
            )
        ],
    )


def cluster_failover() -> Json:
    return scale_cluster1_drill(
        title="Cluster failover: the client's own cluster answers, until it cannot",
        description=(
            "Guide 001 step 3 (ambient, PreferNetwork). From the client pod in cluster"
            " 1, the global service answers from cluster 1 only. Cluster 1's workload"
            " scaled to zero: 100% cluster 2. Scaled back: cluster 1 again."
        ),
        tags=["tier:cluster-failover", "guide-001"],
        topology="guide-001",
        steady=("in-cluster1", "${cluster1_context}", "cluster"),
        failover=(
            "all-traffic-fails-over-to-cluster2",
            "${cluster2_context}",
            "cluster",
        ),
    )


def region_failover() -> Json:
    return scale_cluster1_drill(
        title="Region failover: with PreferClose, a region that goes dark fails over",
        description=(
            "Guide 001 step 4, end (ambient, PreferClose). The client's own zone"
            " answers; with the whole of cluster 1 (region us-east-1) scaled to zero,"
            " 100% of answers come from the other region; scaled back, the client's"
            " zone again."
        ),
        tags=["tier:region-failover", "guide-001"],
        topology="guide-001-preferclose",
        steady=("in-the-client-zone", "${client_zone}", "zone"),
        failover=(
            "all-traffic-fails-over-to-the-other-region",
            "${other_region}",
            "region",
        ),
    )


def waypoint_failover() -> Json:
    experiment = scale_cluster1_drill(
        title="Waypoint failover: the waypoint's failoverPriority moves traffic",
        description=(
            "Guide 001 steps 5-6 (L7 waypoint, DestinationRule failoverPriority"
            " [zone, region] with outlier detection). Decided at the waypoint's own"
            " locality: its zone answers; cluster 1 scaled to zero: 100% cluster 2;"
            " scaled back: the waypoint's zone again."
        ),
        tags=["tier:waypoint-failover", "guide-001"],
        topology="guide-001-waypoint",
        steady=("in-the-waypoint-zone", "${waypoint_zone}", "zone"),
        failover=(
            "all-traffic-fails-over-to-cluster2",
            "${cluster2_context}",
            "cluster",
        ),
    )
    experiment["configuration"]["waypoint_zone"] = "us-east-1a"
    return experiment


NOWHERE: Json = {"error": 1.0}
"""Every request fails: the split of traffic with nowhere to go (probes.tally)."""
GATEWAY_2: Json = {
    "context": "${cluster2_context}",
    "gateway": "${eastwest_gateway}",
    "namespace": "${eastwest_namespace}",
}


def g001_reach(name: str, expect: str) -> Json:
    return {
        "type": "probe",
        "name": name,
        "tolerance": WITHIN,
        "provider": py(
            "probes.reach",
            "cross_network_reach",
            {
                "target": "${cluster2_context}",
                "source": G001_SOURCE,
                "workload": G001_WORKLOAD,
                "expect": expect,
            },
        ),
    }


def eastwest_outage() -> Json:
    tags = ["tier:eastwest-outage", "guide-001"]
    return drill(
        title="East-west outage: with cluster 2's gateway down, failover has nowhere"
        " to go",
        description=(
            "Guide 001 (ambient, PreferNetwork, one network per cluster). The client's"
            " own cluster answers; cluster 2 is reachable through its east-west"
            " gateway. That gateway scaled to zero, then cluster 1's workload scaled"
            " to zero: every request fails (the failover has nowhere to go: cluster"
            " 2's endpoints are behind a gateway with no ready replica), and the"
            " journal says why. The gateway back: 100% cluster 2 within the deadline."
            " Cluster 1 back: the client's own cluster again."
        ),
        tags=tags,
        preflight=preflight_probe(tags, G001_SOURCE, G001_WORKLOAD),
        configuration={
            "lab_topology": "guide-001",
            **G001,
            **STATISTICS,
            "eastwest_gateway": "istio-eastwestgateway",
            "eastwest_namespace": "istio-system",
            # errors must last this long: not the blip of cluster 1's pods gone
            # before their endpoints are withdrawn (an EDS push's delay)
            "nowhere_hold": 5,
        },
        hypothesis=(
            "The client's own cluster answers; cluster 2 is within reach",
            [
                g001_all_in("in-cluster1", "${cluster1_context}", "cluster"),
                g001_reach("cluster2-within-reach", "reachable"),
            ],
        ),
        method=[
            action(
                "cluster2-eastwest-gateway-down",
                "chaosext.actions.outages",
                "gateway_outage",
                GATEWAY_2,
            ),
            action(
                "scale-cluster1-to-zero",
                "chaosext.actions.scale",
                "scale_to_zero",
                SCALE_1,
            ),
            wait_probe(
                "failover-has-nowhere-to-go",
                NOWHERE,
                "cluster",
                "${failover_deadline}",
                G001_SOURCE,
                G001_WORKLOAD,
                hold="${nowhere_hold}",
            ),
            g001_reach("cluster2-out-of-reach", "unreachable"),
            action(
                "cluster2-eastwest-gateway-back",
                "chaosext.actions.outages",
                "restore_gateway",
                GATEWAY_2,
            ),
            g001_wait(
                "traffic-fails-over-to-cluster2",
                "${cluster2_context}",
                "cluster",
                "${failover_deadline}",
            ),
            action(
                "scale-cluster1-back",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_1,
            ),
            g001_wait(
                "traffic-returns-in-cluster1",
                "${cluster1_context}",
                "cluster",
                "${recovery_deadline}",
            ),
        ],
        rollbacks=[
            action(
                "restore-cluster2-eastwest-gateway",
                "chaosext.actions.outages",
                "restore_gateway",
                GATEWAY_2,
            ),
            action(
                "restore-cluster1-replicas",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_1,
            ),
        ],
    )


def zone_failover() -> Json:
    delete = {
        "selector": "${selector}",
        "namespace": "${namespace}",
        "client_pod": "${client_pod}",
        "client_namespace": "${client_namespace}",
        "context": "${cluster1_context}",
    }
    return drill(
        title="Zone failover: with PreferClose, a lost same-zone pod stays in region",
        description=(
            "Guide 001 step 4 (ambient, PreferClose). The client's zone answers."
            " The workload's pods in that zone deleted: 100% the other zone of the same"
            " region. Once the replacement is ready: the client's zone again."
        ),
        tags=["tier:zone-failover", "guide-001"],
        preflight=preflight_probe(["tier:zone-failover"], G001_SOURCE, G001_WORKLOAD),
        configuration={"lab_topology": "guide-001-preferclose", **G001, **STATISTICS},
        hypothesis=(
            "The client's traffic stays in its zone",
            [g001_all_in("in-the-client-zone", "${client_zone}", "zone")],
        ),
        method=[
            action(
                "delete-the-same-zone-pods",
                "chaosext.actions.pods",
                "delete_same_zone_pod",
                delete,
            ),
            g001_wait(
                "traffic-fails-over-to-the-other-zone",
                "${other_zone}",
                "zone",
                "${failover_deadline}",
            ),
            g001_wait(
                "traffic-returns-to-the-client-zone",
                "${client_zone}",
                "zone",
                "${recovery_deadline}",
            ),
        ],
        rollbacks=[],
    )


def zone_outage() -> Json:
    zone = {"zone": "${client_zone}", "context": "${cluster1_context}"}
    return drill(
        title="Zone outage: a cordoned, drained zone fails over within the region",
        description=(
            "Design card tier (ambient, PreferClose). Every node of the client's zone"
            " in cluster 1 is cordoned and the workload's pods there evicted: 100% the"
            " other zone of the same region, never the other region. Uncordoned: the"
            " region keeps serving (pods may return to the zone later)."
        ),
        tags=["tier:zone-outage", "guide-001"],
        preflight=preflight_probe(["tier:zone-outage"], G001_SOURCE, G001_WORKLOAD),
        configuration={"lab_topology": "guide-001-preferclose", **G001, **STATISTICS},
        hypothesis=(
            "The client's traffic stays in its region",
            [g001_all_in("in-the-client-region", "${client_region}", "region")],
        ),
        method=[
            g001_all_in(
                "in-the-client-zone-before-the-outage", "${client_zone}", "zone"
            ),
            action(
                "cordon-and-drain-the-client-zone",
                "chaosext.actions.zone",
                "cordon_zone",
                {**zone, "evict_selector": "${selector}", "namespace": "${namespace}"},
            ),
            g001_wait(
                "traffic-fails-over-to-the-other-zone",
                "${other_zone}",
                "zone",
                "${failover_deadline}",
            ),
            action(
                "uncordon-the-client-zone",
                "chaosext.actions.zone",
                "uncordon_zone",
                zone,
            ),
            g001_wait(
                "traffic-stays-in-the-region",
                "${client_region}",
                "region",
                "${recovery_deadline}",
            ),
        ],
        rollbacks=[
            action(
                "uncordon-the-client-zone",
                "chaosext.actions.zone",
                "uncordon_zone",
                zone,
            )
        ],
    )


# -- guide 000: sidecars and an ingress gateway -------------------------------------

G000: Json = {
    "lab_topology": "guide-000",
    "cluster_a_context": "cluster-a",
    "cluster_b_context": "cluster-b",
    "namespace": "default",
    "deployment": "hello-world",
    "service": "hello-world",
    "selector": "app=hello-world",
    "ingress_context": "cluster-a",
    "ingress_service": "istio-system/istio-ingressgateway",
    "ingress_url": "",
    "path": "/",
    "extractor": "hello",
}
G000_SOURCE: Json = {
    "ingress": {
        "service": "${ingress_service}",
        "context": "${ingress_context}",
        "url": "${ingress_url}",
    },
    "path": "${path}",
    "extractor": "${extractor}",
    "timeout": "${request_timeout}",
}
G000_WORKLOAD: Json = {
    "contexts": ["${cluster_a_context}", "${cluster_b_context}"],
    "namespace": "${namespace}",
    "selector": "${selector}",
}
FIFTY_FIFTY: Json = {"${cluster_a_context}": 0.5, "${cluster_b_context}": 0.5}
SCALE_A: Json = {
    "deployment": "${deployment}",
    "namespace": "${namespace}",
    "context": "${cluster_a_context}",
}


def g000_split() -> Json:
    return split_probe(
        "traffic-splits-50-50", FIFTY_FIFTY, "cluster", G000_SOURCE, G000_WORKLOAD
    )


def region_outage() -> Json:
    return drill(
        title="Region outage: traffic leaves a region that goes down, and comes back",
        description=(
            "Guide 000 (multi-cluster mesh failover). Both clusters healthy: 50/50"
            " through the ingress gateway (DestinationRule distribute). Cluster A down"
            " (its workload scaled to zero): 100% cluster B, no client errors once"
            " converged. Cluster A back: 50/50 again."
        ),
        tags=["tier:region-outage", "guide-000"],
        preflight=preflight_probe(["tier:region-outage"], G000_SOURCE, G000_WORKLOAD),
        configuration={**G000, **STATISTICS, "samples": 400},
        hypothesis=(
            "Both clusters healthy: traffic splits 50/50 between cluster A and B",
            [g000_split()],
        ),
        method=[
            action(
                "scale-cluster-a-to-zero",
                "chaosext.actions.scale",
                "scale_to_zero",
                SCALE_A,
            ),
            wait_probe(
                "all-traffic-fails-over-to-cluster-b",
                {"${cluster_b_context}": 1.0},
                "cluster",
                "${failover_deadline}",
                G000_SOURCE,
                G000_WORKLOAD,
            ),
            action(
                "scale-cluster-a-back",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_A,
            ),
            wait_probe(
                "traffic-returns-to-50-50",
                FIFTY_FIFTY,
                "cluster",
                "${recovery_deadline}",
                G000_SOURCE,
                G000_WORKLOAD,
                tolerance="${split_tolerance}",
            ),
        ],
        rollbacks=[
            action(
                "restore-cluster-a-replicas",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_A,
            )
        ],
    )


def outlier_ejection() -> Json:
    fault = {
        "selector": "${selector}",
        "namespace": "${namespace}",
        "context": "${cluster_a_context}",
    }
    return drill(
        title="Outlier ejection: failing pods are ejected, then taken back",
        description=(
            "Guide 000 with guide 001's notes. Cluster A's pods stay up but their"
            " sidecars answer 503: an Istio EnvoyFilter puts Envoy's HTTP fault filter"
            " on the workload's inbound listener in cluster A only (the application"
            " is not asked to do anything). Outlier detection (consecutive5xxErrors 1,"
            " maxEjectionPercent 100) ejects them: 100% cluster B, with at most"
            " `error_budget` client errors on the way. The EnvoyFilter deleted,"
            " traffic returns after the ejection time (baseEjectionTime 30 s),"
            " 50/50 again."
        ),
        tags=["tier:outlier-ejection", "guide-000"],
        preflight=preflight_probe(
            ["tier:outlier-ejection"], G000_SOURCE, G000_WORKLOAD
        ),
        configuration={
            **G000,
            **STATISTICS,
            "samples": 400,
            "fault_status": 503,
            "fault_percentage": 100,
            "error_budget": 10,
            "recovery_deadline": 90,
        },
        hypothesis=(
            "Both clusters healthy: traffic splits 50/50 between cluster A and B",
            [g000_split()],
        ),
        method=[
            action(
                "cluster-a-sidecars-answer-503",
                "chaosext.actions.httpfault",
                "inject_http_fault",
                {
                    **fault,
                    "status": "${fault_status}",
                    "percentage": "${fault_percentage}",
                },
            ),
            wait_probe(
                "failing-pods-are-ejected",
                {"${cluster_b_context}": 1.0},
                "cluster",
                "${failover_deadline}",
                G000_SOURCE,
                G000_WORKLOAD,
                max_transition_errors="${error_budget}",
            ),
            action(
                "cluster-a-fault-removed",
                "chaosext.actions.httpfault",
                "clear_http_fault",
                fault,
            ),
            wait_probe(
                "traffic-returns-after-the-ejection-time",
                FIFTY_FIFTY,
                "cluster",
                "${recovery_deadline}",
                G000_SOURCE,
                G000_WORKLOAD,
                tolerance="${split_tolerance}",
            ),
        ],
        rollbacks=[
            action(
                "remove-the-fault",
                "chaosext.actions.httpfault",
                "clear_http_fault",
                fault,
            )
        ],
    )


def control_plane_outage() -> Json:
    istiod = {
        "context": "${cluster_a_context}",
        "namespace": "${istiod_namespace}",
        "deployment": "${istiod_deployment}",
    }
    ready = {"deadline": "${recovery_deadline}"}
    tags = ["tier:control-plane-outage", "guide-000"]
    return drill(
        title="Control-plane outage: outlier detection fails over without istiod",
        description=(
            "Guide 000 with cluster A's istiod down. Steady state: traffic goes where"
            " the mesh's config predicts (guide 000: 50/50). istiod scaled to zero"
            " (its last pod gone), then cluster A's workload (its pods gone): no"
            " endpoint push reaches cluster A's ingress gateway, which keeps the gone"
            " pods as healthy endpoints; only outlier detection takes them out. 100%"
            " cluster"
            " B before the first ejection ends (baseEjectionTime 30 s), with at most"
            " `error_budget` client errors: consecutive5xxErrors 1 ejects each stale"
            " endpoint at its first connect failure, before the same request retries,"
            " so a request fails only if its 3 attempts (Istio's default 2 retries)"
            " find 3 stale endpoints, and cluster A has 2: 0. istiod back, then the"
            " workload: the predicted split again."
        ),
        tags=tags,
        preflight=preflight_probe(tags, G000_SOURCE, G000_WORKLOAD),
        configuration={
            **G000,
            **STATISTICS,
            "samples": 400,
            "istiod_namespace": "istio-system",
            "istiod_deployment": "istiod",
            "error_budget": 0,
            "failover_deadline": 30,
            # a pod's terminationGracePeriodSeconds is 30 s unless set
            "stop_deadline": 60,
        },
        hypothesis=(
            "Traffic goes where the mesh's config predicts",
            [
                split_probe(
                    "traffic-splits-as-predicted",
                    "predicted",
                    "cluster",
                    G000_SOURCE,
                    G000_WORKLOAD,
                )
            ],
        ),
        method=[
            action(
                "cluster-a-istiod-to-zero",
                "chaosext.actions.outages",
                "control_plane_outage",
                istiod,
            ),
            probe(
                "cluster-a-istiod-is-gone",
                "probes.deployments",
                "deployment_stopped",
                {**istiod, "deadline": "${stop_deadline}"},
            ),
            action(
                "scale-cluster-a-to-zero",
                "chaosext.actions.scale",
                "scale_to_zero",
                SCALE_A,
            ),
            probe(
                "cluster-a-workload-is-gone",
                "probes.deployments",
                "deployment_stopped",
                {**SCALE_A, "deadline": "${stop_deadline}"},
            ),
            wait_probe(
                "outlier-detection-fails-over-to-cluster-b",
                {"${cluster_b_context}": 1.0},
                "cluster",
                "${failover_deadline}",
                G000_SOURCE,
                G000_WORKLOAD,
                max_transition_errors="${error_budget}",
            ),
            action(
                "cluster-a-istiod-back",
                "chaosext.actions.outages",
                "restore_control_plane",
                istiod,
            ),
            probe(
                "cluster-a-istiod-is-ready",
                "probes.deployments",
                "deployment_ready",
                {**istiod, **ready},
            ),
            action(
                "scale-cluster-a-back",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_A,
            ),
            probe(
                "cluster-a-workload-is-ready",
                "probes.deployments",
                "deployment_ready",
                {**SCALE_A, **ready},
            ),
            wait_probe(
                "traffic-returns-as-predicted",
                "predicted",
                "cluster",
                "${recovery_deadline}",
                G000_SOURCE,
                G000_WORKLOAD,
                tolerance="${split_tolerance}",
            ),
        ],
        rollbacks=[
            action(
                "restore-cluster-a-istiod",
                "chaosext.actions.outages",
                "restore_control_plane",
                istiod,
            ),
            action(
                "restore-cluster-a-replicas",
                "chaosext.actions.scale",
                "restore_replicas",
                SCALE_A,
            ),
        ],
    )


def slow_upstream() -> Json:
    fault = {
        "selector": "${selector}",
        "namespace": "${namespace}",
        "context": "${cluster_a_context}",
    }
    slow_a = {"${cluster_a_context}": "${fault_delay}"}
    fast_b = {"${cluster_b_context}": "${fault_delay}"}
    # while cluster A is slow, more requests in flight: the sampler's slots would
    # otherwise sit idle on the delay (docs/tiers.md)
    wide = {**G000_SOURCE, "concurrency": "${slow_concurrency}"}
    return drill(
        title="Slow upstream: a slow cluster keeps its share, and its latency shows",
        description=(
            "Guide 000. Cluster A's pods stay up and answer, but slowly: an Istio"
            " EnvoyFilter puts Envoy's HTTP fault filter (delay `fault_delay` s on"
            " every request) on the workload's inbound listener in cluster A only."
            " A delay is no error, so outlier detection ejects nothing, and the"
            " DestinationRule's `distribute` weights pick the locality whatever its"
            " latency: the split stays 50/50, cluster A's median latency is at least"
            " the delay, cluster B's below it (per-destination p50/p90/p99 in the"
            " journal). The EnvoyFilter deleted: cluster A fast again, still 50/50."
        ),
        tags=["tier:slow-upstream", "guide-000"],
        preflight=preflight_probe(["tier:slow-upstream"], G000_SOURCE, G000_WORKLOAD),
        configuration={
            **G000,
            **STATISTICS,
            "samples": 400,
            "fault_delay": 0.3,
            "slow_concurrency": 32,
        },
        hypothesis=(
            "Both clusters healthy: traffic splits 50/50 between cluster A and B",
            [g000_split()],
        ),
        method=[
            action(
                "cluster-a-answers-slowly",
                "chaosext.actions.httpfault",
                "inject_http_fault",
                {**fault, "status": 0, "delay": "${fault_delay}"},
            ),
            wait_probe(
                "share-unchanged-while-cluster-a-is-slow",
                FIFTY_FIFTY,
                "cluster",
                "${failover_deadline}",
                wide,
                G000_WORKLOAD,
                tolerance="${split_tolerance}",
                latency_at_least=slow_a,
                latency_below=fast_b,
            ),
            action(
                "cluster-a-delay-removed",
                "chaosext.actions.httpfault",
                "clear_http_fault",
                fault,
            ),
            wait_probe(
                "cluster-a-fast-again-share-unchanged",
                FIFTY_FIFTY,
                "cluster",
                "${recovery_deadline}",
                wide,
                G000_WORKLOAD,
                tolerance="${split_tolerance}",
                latency_below={**slow_a, **fast_b},
            ),
        ],
        rollbacks=[
            action(
                "remove-the-delay",
                "chaosext.actions.httpfault",
                "clear_http_fault",
                fault,
            )
        ],
    )


# -- conformance: any mesh, no hand-written numbers --------------------------------

CONFORMANCE: Json = {
    "lab_topology": "guide-000",
    "workload_contexts": ["cluster-a", "cluster-b"],
    "namespace": "default",
    "deployment": "hello-world",
    "service": "hello-world",
    "selector": "app=hello-world",
    "source": {
        "ingress": {
            "service": "istio-system/istio-ingressgateway",
            "context": "cluster-a",
            "url": "",
        },
        "path": "/",
        "extractor": "hello",
        "timeout": 2.0,
    },
}
CONFORMANCE_WORKLOAD: Json = {
    "contexts": "${workload_contexts}",
    "namespace": "${namespace}",
    "selector": "${selector}",
}


def conformance() -> Json:
    tags = ["tier:conformance"]
    return drill(
        title="Conformance: traffic goes where the mesh's own config says",
        description=(
            "Any mesh, no hand-written numbers (DESIGN s.4). The steady state is the"
            " split the live config predicts for the client. Each cluster that gets"
            " a share of the client's traffic is taken down in turn (its workload"
            " scaled to zero, with a restore record): traffic must go where the"
            " config then predicts, and come back once the workload is restored."
            " Point it at a service with a var file (source, workload)."
        ),
        tags=tags,
        configuration={**CONFORMANCE, **STATISTICS},
        preflight=preflight_probe(tags, "${source}", CONFORMANCE_WORKLOAD),
        hypothesis=(
            "Traffic splits as the live config predicts",
            [
                split_probe(
                    "traffic-splits-as-predicted",
                    "predicted",
                    "cluster",
                    "${source}",
                    CONFORMANCE_WORKLOAD,
                )
            ],
        ),
        method=[
            action(
                "lose-each-locality-in-turn",
                "chaosext.actions.conformance",
                "lose_each_locality",
                {
                    "deployment": "${deployment}",
                    "source": "${source}",
                    "workload": CONFORMANCE_WORKLOAD,
                    "tolerance": "${split_tolerance}",
                    "batch": "${batch}",
                    "consecutive": "${consecutive}",
                    "deadline": "${failover_deadline}",
                    "recovery_deadline": "${recovery_deadline}",
                    "max_samples": "${max_samples}",
                },
            )
        ],
        rollbacks=[
            action(
                "restore-every-locality",
                "chaosext.actions.conformance",
                "restore_each_locality",
                {"deployment": "${deployment}", "workload": CONFORMANCE_WORKLOAD},
            )
        ],
    )


TIERS = {
    "region_outage.json": region_outage,
    "cluster_failover.json": cluster_failover,
    "zone_failover.json": zone_failover,
    "zone_outage.json": zone_outage,
    "region_failover.json": region_failover,
    "waypoint_failover.json": waypoint_failover,
    "outlier_ejection.json": outlier_ejection,
    "control_plane_outage.json": control_plane_outage,
    "slow_upstream.json": slow_upstream,
    "eastwest_outage.json": eastwest_outage,
    "conformance.json": conformance,
}


def rendered() -> dict[str, str]:
    """File name -> the exact text each experiment file must hold."""
    return {name: json.dumps(build(), indent=2) + "\n" for name, build in TIERS.items()}


def main() -> int:
    for name, text in rendered().items():
        (HERE / name).write_text(text)
        print(f"wrote experiments/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
