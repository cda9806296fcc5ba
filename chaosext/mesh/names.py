"""Well-known names: the labels, annotations and defaults Istio, Kubernetes and
meshdrill read, in one place for the lab and the client side alike.

Import the module (`from chaosext.mesh import names`) and use `names.REGION`, so a
reader sees where a name comes from. Sources: Kubernetes well-known labels
(kubernetes.io/docs/reference/labels-annotations-taints), Istio's `pkg/config/
constants` and `pkg/config/labels` ([I] 1.30.3), Istio's `pilot/pkg/model/service.go`
(traffic distribution), and guide 001's vendor labels ("Multicluster zone and region
failover", Gloo Mesh/Solo.io docs).
"""

from types import MappingProxyType

# -- locality: node labels (Kubernetes), read by istiod for every endpoint ----------
REGION = "topology.kubernetes.io/region"
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"

# -- Istio topology labels ----------------------------------------------------------
SUBZONE = "topology.istio.io/subzone"
"""Node label for the subzone (the third locality part)."""
CLUSTER = "topology.istio.io/cluster"
"""istiod adds it to endpoint and proxy labels (failoverPriority can name it)."""
NETWORK = "topology.istio.io/network"
"""On a pod, its namespace (istio-system sets the cluster's) or an east-west gateway."""
ISTIO_LOCALITY = "istio-locality"
"""Pod label that overrides node labels: `region.zone.subzone`."""

# -- which proxy chooses ------------------------------------------------------------
DATAPLANE_MODE = "istio.io/dataplane-mode"
"""Namespace or pod label; `ambient` puts workloads on ztunnel (`none` opts out)."""
DATAPLANE_AMBIENT = "ambient"
DATAPLANE_NONE = "none"
USE_WAYPOINT = "istio.io/use-waypoint"
"""Service or namespace label naming the waypoint that serves it (`none` opts out)."""
NO_WAYPOINT = "none"
WAYPOINT_FOR = "istio.io/waypoint-for"
"""Gateway label: `service` (default), `workload`, `all` or `none`."""
WAYPOINT_CLASS = "istio-waypoint"
"""`gatewayClassName` of a waypoint Gateway."""
GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"
"""Label of the pods (and Service) a Gateway API controller makes for a Gateway."""
GATEWAY_MANAGED = "gateway.istio.io/managed"
"""Label Istio puts on what it deploys for a Gateway: which controller made it."""
GATEWAY_MANAGED_INGRESS = "istio.io-gateway-controller"
GATEWAY_MANAGED_WAYPOINT = "istio.io-mesh-controller"
INJECTION_NAMESPACE = "istio-injection"
"""Namespace label: `enabled` injects sidecars (`disabled` opts out)."""
INJECTION_REVISION = "istio.io/rev"
"""Namespace or pod label naming the control plane revision that injects."""
INJECTION_POD = "sidecar.istio.io/inject"
"""Pod label (or legacy annotation): `true`/`false` overrides the namespace."""
SIDECAR_STATUS = "sidecar.istio.io/status"
"""Annotation the injector writes on an injected pod."""
SIDECAR_CONTAINER = "istio-proxy"
"""The name of the injected proxy container (also gateways' and waypoints')."""
ISTIO_APP = "istio"
"""Pod label of Istio's gateways: `ingressgateway`, `eastwestgateway`..."""

# -- traffic distribution -----------------------------------------------------------
TRAFFIC_DISTRIBUTION = "networking.istio.io/traffic-distribution"
"""Service or namespace annotation; the Service's `spec.trafficDistribution` wins."""

# -- multi-cluster (guide 001's vendor mesh) ----------------------------------------
SERVICE_SCOPE = "solo.io/service-scope"
"""Service label; `global` makes `<svc>.<ns>.mesh.internal` across clusters."""
SERVICE_SCOPE_GLOBAL = "global"
GLOBAL_DOMAIN = "mesh.internal"
CLUSTER_DOMAIN = "svc.cluster.local"

# -- defaults -----------------------------------------------------------------------
ROOT_NAMESPACE = "istio-system"
"""`meshConfig.rootNamespace` by default: mesh-wide config lives here."""
MESH_LOCALITY_LB_DEFAULT = MappingProxyType({"enabled": True})
"""`meshConfig.localityLbSetting` when unset (`pkg/config/mesh/mesh.go`)."""
DEFAULT_EXPORT_TO = "*"
"""`meshConfig.defaultDestinationRuleExportTo` when unset: visible everywhere."""
EXPORT_PRIVATE = "."
EXPORT_NONE = "~"

# -- meshdrill's own annotations ----------------------------------------------------
RESTORE = "meshdrill.io/restore"
"""What an action changed, written on the object before changing it."""
LAB_FAULT = "lab.meshdrill.io/fault"
"""Lab pod: JSON `{"status"|"delay"|"refuse"}` the pod answers with."""
LAB_HOSTS = "lab.meshdrill.io/hosts"
"""Lab Service: extra mesh hosts it serves, comma-separated."""
LAB_ROLE = "lab.meshdrill.io/role"
"""Lab pod template: `gateway`, `client` or `waypoint`."""
LAB_ADDRESS = "lab.meshdrill.io/address"
"""Lab pod: where its server listens."""
LAB_PROXY = "lab.meshdrill.io/proxy"
"""Lab client pod template: its mesh proxy kind (`sidecar`, `ztunnel`, `waypoint`)."""
TLS_MODE = "security.istio.io/tlsMode"
"""A pod label the injector sets to `istio`; istiod sends Istio mTLS only to such
endpoints (unless a DestinationRule sets `tls.mode`)."""
TLS_MODE_ISTIO = "istio"
GATEWAY_PORT = "networking.istio.io/gatewayPort"
"""On a network gateway Service: the port remote networks connect to (15443)."""
