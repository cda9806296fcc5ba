"""Reading a topology document: every field checked, errors naming file, line, field.

`Parser(checker).topology(data)` builds the `Topology` of `chaosext.lab.topology`
(use `topology.load` or `topology.parse`, not this module, from outside).
"""

from pathlib import Path
from typing import Any

import yaml

from chaosext import mesh
from chaosext.lab import authz, kinds, yamlmarks
from chaosext.lab.schema import SUBDOMAIN_RE, Checker
from chaosext.lab.topology import (
    DEFAULT_IMAGE,
    PROXY_KINDS,
    Client,
    Cluster,
    Gateway,
    Namespace,
    Node,
    Resources,
    ServiceSpec,
    Timing,
    Topology,
    Waypoint,
    Workload,
)


class Parser:
    def __init__(self, check: Checker) -> None:
        self.c = check

    def topology(self, data: Any) -> Topology:
        c = self.c
        top = c.mapping(
            (),
            data,
            required=("clusters",),
            optional=(
                "name",
                "description",
                "timing",
                "mesh",
                "namespaces",
                "workloads",
                "gateways",
                "clients",
                "resources",
                "seed",
                "waypoints",
                "access",
            ),
        )
        name = c.name(("name",), top.get("name", Path(c.source).stem))
        clusters = tuple(
            self.cluster(("clusters", i), item)
            for i, item in enumerate(c.seq(("clusters",), top["clusters"]))
        )
        if not clusters:
            c.fail(("clusters",), "needs at least one cluster")
        _unique(c, ("clusters",), [k.name for k in clusters], "cluster")
        self.clusters = {k.name: k for k in clusters}
        workloads = tuple(
            self.workload(("workloads", i), item)
            for i, item in enumerate(c.seq(("workloads",), top.get("workloads", [])))
        )
        _unique(
            c,
            ("workloads",),
            [f"{w.namespace}/{w.name}" for w in workloads],
            "workload",
        )
        self.hosts = {h for w in workloads for h in w.hosts}
        gateways = tuple(
            self.gateway(("gateways", i), item)
            for i, item in enumerate(c.seq(("gateways",), top.get("gateways", [])))
        )
        clients = tuple(
            self.client(("clients", i), item)
            for i, item in enumerate(c.seq(("clients",), top.get("clients", [])))
        )
        resources = tuple(
            self.resources(("resources", i), item)
            for i, item in enumerate(c.seq(("resources",), top.get("resources", [])))
        )
        waypoints = tuple(
            self.waypoint(("waypoints", i), item)
            for i, item in enumerate(c.seq(("waypoints",), top.get("waypoints", [])))
        )
        _unique(
            c,
            ("waypoints",),
            [f"{w.cluster}/{w.namespace}/{w.name}" for w in waypoints],
            "waypoint",
        )
        mesh_config = c.mapping(
            ("mesh",), top.get("mesh", {}), optional=("localityLbSetting",)
        )
        if "localityLbSetting" in mesh_config:
            c.mapping(
                ("mesh", "localityLbSetting"),
                mesh_config["localityLbSetting"],
                free=True,
            )
        seed = top.get("seed")
        return Topology(
            name=name,
            source=c.source,
            description=str(top.get("description", "")),
            timing=self.timing(top.get("timing", {})),
            mesh=dict(mesh_config),
            clusters=clusters,
            namespaces=self.namespaces(
                top.get("namespaces", []),
                workloads,
                gateways,
                (*clients, *waypoints),
                resources,
            ),
            workloads=workloads,
            gateways=gateways,
            clients=clients,
            resources=resources,
            waypoints=waypoints,
            seed=None if seed is None else c.integer(("seed",), seed),
            access=authz.parse_access(c, top["access"]) if "access" in top else None,
        )

    def timing(self, value: Any) -> Timing:
        fields = ("ready_after", "propagation", "terminate_after")
        data = self.c.mapping(("timing",), value, optional=fields)
        given = {k: self.c.number(("timing", k), data[k]) for k in fields if k in data}
        return Timing(**given)

    def cluster(self, path: yamlmarks.Path, value: Any) -> Cluster:
        c = self.c
        data = c.mapping(
            path, value, ("name", "region", "nodes"), ("network", "eastwest")
        )
        name = c.name((*path, "name"), data["name"])
        nodes = tuple(
            self.node((*path, "nodes", i), item)
            for i, item in enumerate(c.seq((*path, "nodes"), data["nodes"]))
        )
        if not nodes:
            c.fail((*path, "nodes"), "needs at least one node")
        _unique(c, (*path, "nodes"), [n.name for n in nodes], "node")
        return Cluster(
            name=name,
            network=c.string(
                (*path, "network"), data.get("network", f"{name}-network")
            ),
            region=c.string((*path, "region"), data["region"]),
            nodes=nodes,
            eastwest=self.eastwest((*path, "eastwest"), nodes, data.get("eastwest")),
        )

    def eastwest(
        self, path: yamlmarks.Path, nodes: tuple[Node, ...], zone: Any
    ) -> str | None:
        """`eastwest: <zone>`: the cluster runs an east-west gateway there."""
        if zone is None:
            return None
        zones = [n.zone for n in nodes]
        if zone not in zones:
            self.c.fail(path, f"'{zone}' is not a zone of this cluster ({zones})")
        return str(zone)

    def node(self, path: yamlmarks.Path, value: Any) -> Node:
        c = self.c
        data = c.mapping(path, value, ("name", "zone"), ("subzone", "labels"))
        return Node(
            name=c.string((*path, "name"), data["name"], SUBDOMAIN_RE),
            zone=c.string((*path, "zone"), data["zone"]),
            subzone=str(data.get("subzone") or ""),
            labels=c.string_map((*path, "labels"), data.get("labels")),
        )

    def namespaces(
        self,
        value: Any,
        workloads: tuple[Workload, ...],
        gateways: tuple[Gateway, ...],
        clients: tuple[Client | Waypoint, ...],
        resources: tuple[Resources, ...],
    ) -> tuple[Namespace, ...]:
        c = self.c
        out: dict[str, Namespace] = {}
        for i, item in enumerate(c.seq(("namespaces",), value)):
            path: yamlmarks.Path = ("namespaces", i)
            if isinstance(item, str):
                out[c.name(path, item)] = Namespace(item)
                continue
            data = c.mapping(path, item, ("name",), ("labels", "annotations"))
            name = c.name((*path, "name"), data["name"])
            out[name] = Namespace(
                name,
                c.string_map((*path, "labels"), data.get("labels")),
                c.string_map((*path, "annotations"), data.get("annotations")),
            )
        used = ["default", "kube-system"]
        owners: list[Workload | Gateway | Client | Waypoint] = [
            *workloads,
            *gateways,
            *clients,
        ]
        used += [x.namespace for x in owners]
        if any(k.eastwest for k in self.clusters.values()):
            used.append("istio-system")  # where east-west gateways run
        used += [
            obj["metadata"].get("namespace") or "default"
            for r in resources
            for obj in r.objects
            if obj["kind"] != "Namespace"
        ]
        for name in used:
            out.setdefault(name, Namespace(name))
        return tuple(out.values())

    def workload(self, path: yamlmarks.Path, value: Any) -> Workload:
        c = self.c
        data = c.mapping(
            path,
            value,
            ("name", "replicas"),
            ("namespace", "labels", "service", "image", "port"),
        )
        name = c.name((*path, "name"), data["name"])
        replicas_raw = c.mapping((*path, "replicas"), data["replicas"], free=True)
        replicas: dict[str, int] = {}
        for cluster, count in replicas_raw.items():
            self.known_cluster((*path, "replicas", cluster), cluster)
            replicas[cluster] = c.integer((*path, "replicas", cluster), count)
        service = data.get("service", {})
        return Workload(
            name=name,
            namespace=c.name((*path, "namespace"), data.get("namespace", "default")),
            labels=c.string_map((*path, "labels"), data.get("labels")) or {"app": name},
            replicas=replicas,
            service=None
            if service is None
            else self.service((*path, "service"), service),
            image=c.string((*path, "image"), data.get("image", DEFAULT_IMAGE)),
            port=c.integer((*path, "port"), data.get("port", 8080), 1),
        )

    def service(self, path: yamlmarks.Path, value: Any) -> ServiceSpec:
        c = self.c
        data = c.mapping(
            path,
            value,
            optional=(
                "port",
                "targetPort",
                "labels",
                "annotations",
                "hosts",
                "trafficDistribution",
            ),
        )
        hosts = c.seq((*path, "hosts"), data.get("hosts", []))
        distribution = data.get("trafficDistribution")
        return ServiceSpec(
            port=c.integer((*path, "port"), data.get("port", 80), 1),
            target_port=c.integer(
                (*path, "targetPort"), data.get("targetPort", 8080), 1
            ),
            labels=c.string_map((*path, "labels"), data.get("labels")),
            annotations=c.string_map((*path, "annotations"), data.get("annotations")),
            hosts=tuple(
                c.string((*path, "hosts", i), h, SUBDOMAIN_RE)
                for i, h in enumerate(hosts)
            ),
            traffic_distribution=None
            if distribution is None
            else c.string((*path, "trafficDistribution"), distribution),
        )

    def gateway(self, path: yamlmarks.Path, value: Any) -> Gateway:
        c = self.c
        data = c.mapping(
            path, value, ("name", "cluster", "zone", "route"), ("namespace", "labels")
        )
        name = c.name((*path, "name"), data["name"])
        cluster = self.known_cluster((*path, "cluster"), data["cluster"])
        route = c.string((*path, "route"), data["route"])
        if route not in self.hosts:
            c.fail(
                (*path, "route"),
                f"'{route}' is no workload's host "
                f"(hosts: {', '.join(sorted(self.hosts))})",
            )
        labels = {"app": name, "istio": name.removeprefix("istio-")}
        labels.update(c.string_map((*path, "labels"), data.get("labels")))
        return Gateway(
            name=name,
            namespace=c.name(
                (*path, "namespace"), data.get("namespace", "istio-system")
            ),
            cluster=cluster.name,
            zone=self.known_zone((*path, "zone"), cluster, data["zone"]),
            route=route,
            labels=labels,
        )

    def client(self, path: yamlmarks.Path, value: Any) -> Client:
        c = self.c
        data = c.mapping(
            path,
            value,
            ("name", "cluster", "zone"),
            ("namespace", "proxy", "labels"),
        )
        name = c.name((*path, "name"), data["name"])
        cluster = self.known_cluster((*path, "cluster"), data["cluster"])
        return Client(
            name=name,
            namespace=c.name((*path, "namespace"), data.get("namespace", "default")),
            cluster=cluster.name,
            zone=self.known_zone((*path, "zone"), cluster, data["zone"]),
            proxy=c.one_of((*path, "proxy"), data.get("proxy", "sidecar"), PROXY_KINDS),
            labels=c.string_map((*path, "labels"), data.get("labels")) or {"app": name},
        )

    def waypoint(self, path: yamlmarks.Path, value: Any) -> Waypoint:
        c = self.c
        data = c.mapping(
            path, value, ("name", "namespace", "cluster", "zone"), ("labels",)
        )
        name = c.name((*path, "name"), data["name"])
        cluster = self.known_cluster((*path, "cluster"), data["cluster"])
        labels = {"gateway.networking.k8s.io/gateway-name": name}
        labels.update(c.string_map((*path, "labels"), data.get("labels")))
        return Waypoint(
            name=name,
            namespace=c.name((*path, "namespace"), data["namespace"]),
            cluster=cluster.name,
            zone=self.known_zone((*path, "zone"), cluster, data["zone"]),
            labels=labels,
        )

    def resources(self, path: yamlmarks.Path, value: Any) -> Resources:
        c = self.c
        data = c.mapping(path, value, ("manifest",), ("clusters",))
        names = c.seq((*path, "clusters"), data.get("clusters", list(self.clusters)))
        for i, cluster in enumerate(names):
            self.known_cluster((*path, "clusters", i), cluster)
        text = c.string((*path, "manifest"), data["manifest"])
        first_line = c.doc.line((*path, "manifest")) + 1  # block scalar content
        objects: list[dict[str, Any]] = []
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            c.fail((*path, "manifest"), f"not valid YAML: {exc}")
        for obj in docs:
            if obj is None:
                continue
            objects.append(self.manifest_object((*path, "manifest"), obj, first_line))
        return Resources(tuple(names), tuple(objects))

    def manifest_object(
        self, path: yamlmarks.Path, obj: Any, first_line: int
    ) -> dict[str, Any]:
        c = self.c
        where = f"(manifest starting at line {first_line})"
        if not isinstance(obj, dict):
            c.fail(path, f"each document must be a mapping {where}")
        api_version, kind_name = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind_name, str):
            c.fail(path, f"a document lacks apiVersion or kind {where}")
        kind = kinds.by_kind(api_version, kind_name)
        if kind is None:
            served = sorted({f"{k.api_version()} {k.kind}" for k in kinds.KINDS})
            c.fail(
                path,
                f"{api_version} {kind_name} is not served by the lab {where}; "
                f"served: {', '.join(served)}",
            )
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict) or not metadata.get("name"):
            c.fail(path, f"{kind_name} lacks metadata.name {where}")
        if kind is kinds.DESTINATION_RULE:
            errors = mesh.validate_destination_rule(
                obj.get("spec") or {}, warnings=False
            )
            if errors:
                c.fail(
                    path,
                    f"DestinationRule {metadata['name']} {where} is invalid: "
                    + "; ".join(errors),
                )
        return obj

    def known_cluster(self, path: yamlmarks.Path, name: Any) -> Cluster:
        if name not in self.clusters:
            self.c.fail(
                path, f"unknown cluster {name!r} (clusters: {', '.join(self.clusters)})"
            )
        return self.clusters[name]

    def known_zone(self, path: yamlmarks.Path, cluster: Cluster, zone: Any) -> str:
        if zone not in cluster.zones:
            self.c.fail(
                path,
                f"zone {zone!r} has no node in cluster {cluster.name} "
                f"(zones: {', '.join(cluster.zones)})",
            )
        return str(zone)


def _unique(c: Checker, path: yamlmarks.Path, names: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            c.fail((*path, i), f"duplicate {what} name '{name}'")
        seen.add(name)
