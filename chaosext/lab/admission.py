"""What the API server does to an object before storing it: defaults and validation.

Only the fields the lab and its clients rely on are defaulted and checked; errors
are 422 `Invalid` naming the object and the field, as the real API server's are.
"""

import copy
import secrets
from typing import Any

from chaosext import mesh
from chaosext.lab import kinds, selectors
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj, Store

STATUS_KINDS = {
    kinds.POD.key,
    kinds.DEPLOYMENT.key,
    kinds.REPLICASET.key,
    kinds.SERVICE.key,
    kinds.NODE.key,
}
TOLERATION_SECONDS = 300


def admit(store: Store, kind: kinds.Kind, obj: Obj, old: Obj | None) -> Obj:
    """Defaulted, validated copy of `obj` (a create when `old` is None)."""
    obj = copy.deepcopy(obj)
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise ApiError.invalid("metadata: Required value", kind.kind)
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is not None and not (
            isinstance(values, dict)
            and all(isinstance(v, str) for v in values.values())
        ):
            raise ApiError.invalid(
                f"metadata.{field}: Invalid value: values must be strings",
                _qualified(kind),
                meta.get("name", ""),
            )
    if kind is kinds.DEPLOYMENT:
        _deployment(obj, old)
    elif kind is kinds.REPLICASET:
        _workload(kind, obj, old)
        obj.setdefault("status", {"replicas": 0})
    elif kind is kinds.SERVICE:
        _service(store, obj, old)
    elif kind is kinds.POD:
        _pod(obj, old)
    elif kind is kinds.NAMESPACE:
        _namespace(obj)
    elif kind is kinds.NODE:
        obj.setdefault("spec", {})
    elif kind is kinds.DESTINATION_RULE:
        _destination_rule(obj)
    return obj


def _destination_rule(obj: Obj) -> None:
    """Istio's validating webhook: reject what istiod would reject."""
    errors = mesh.validate_destination_rule(obj.get("spec") or {}, warnings=False)
    if errors:
        raise ApiError(
            400,
            'admission webhook "validation.istio.io" denied the request: '
            "configuration is invalid: " + "; ".join(errors),
        )


def _qualified(kind: kinds.Kind) -> str:
    return f"{kind.kind}.{kind.group}" if kind.group else kind.kind


def _invalid(kind: kinds.Kind, obj: Obj, field: str, value: Any, why: str) -> ApiError:
    return ApiError.invalid(
        f"{field}: Invalid value: {value!r}: {why}",
        _qualified(kind),
        obj["metadata"].get("name", ""),
    )


def _pod_spec_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for container in spec.get("containers") or []:
        container.setdefault("imagePullPolicy", "IfNotPresent")
        container.setdefault("resources", {})
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")


def _containers_ok(kind: kinds.Kind, obj: Obj, spec: Any, field: str) -> None:
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not isinstance(containers, list) or not containers:
        raise ApiError.invalid(
            f"{field}.containers: Required value",
            _qualified(kind),
            obj["metadata"].get("name", ""),
        )
    for i, container in enumerate(containers):
        if not isinstance(container, dict) or not container.get("name"):
            raise ApiError.invalid(
                f"{field}.containers[{i}].name: Required value",
                _qualified(kind),
                obj["metadata"].get("name", ""),
            )


def _deployment(obj: Obj, old: Obj | None) -> None:
    kind = kinds.DEPLOYMENT
    spec = _workload(kind, obj, old)
    spec.setdefault(
        "strategy",
        {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
        },
    )
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    if old is None:
        obj["status"] = {}


def _workload(kind: kinds.Kind, obj: Obj, old: Obj | None) -> dict[str, Any]:
    """What Deployments and ReplicaSets share: replicas, selector, template."""
    spec = obj.setdefault("spec", {})
    replicas = spec.setdefault("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise _invalid(
            kind, obj, "spec.replicas", replicas, "must be greater than or equal to 0"
        )
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        raise ApiError.invalid(
            "spec.selector: Required value", _qualified(kind), obj["metadata"]["name"]
        )
    template = spec.get("template")
    if not isinstance(template, dict):
        raise ApiError.invalid(
            "spec.template: Required value", _qualified(kind), obj["metadata"]["name"]
        )
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selectors.labels_match(selectors.match_labels_selector(selector), labels):
        raise _invalid(
            kind,
            obj,
            "spec.template.metadata.labels",
            labels,
            "`selector` does not match template `labels`",
        )
    if old is not None and old["spec"].get("selector") != selector:
        raise _invalid(kind, obj, "spec.selector", selector, "field is immutable")
    _containers_ok(kind, obj, template.get("spec"), "spec.template.spec")
    _pod_spec_defaults(template["spec"])
    return spec


def _pod(obj: Obj, old: Obj | None) -> None:
    spec = obj.setdefault("spec", {})
    _containers_ok(kinds.POD, obj, spec, "spec")
    if old is not None:
        if old["spec"].get("nodeName") and spec.get("nodeName") != old["spec"].get(
            "nodeName"
        ):
            raise _invalid(
                kinds.POD,
                obj,
                "spec.nodeName",
                spec.get("nodeName"),
                "field is immutable",
            )
        return
    _pod_spec_defaults(spec)
    _service_account(spec)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for taint in ("not-ready", "unreachable"):
        key = f"node.kubernetes.io/{taint}"
        if not any(t.get("key") == key for t in tolerations if isinstance(t, dict)):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": TOLERATION_SECONDS,
                }
            )
    obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _service_account(spec: dict[str, Any]) -> None:
    """The ServiceAccount admission plugin: the account and its token volume."""
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    volumes = spec.setdefault("volumes", [])
    if spec.get("automountServiceAccountToken") is False:
        return
    if any(str(v.get("name", "")).startswith("kube-api-access-") for v in volumes):
        return
    name = f"kube-api-access-{secrets.token_hex(3)[:5]}"
    volumes.append(
        {
            "name": name,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {
                        "serviceAccountToken": {
                            "expirationSeconds": 3607,
                            "path": "token",
                        }
                    },
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                }
                            ]
                        }
                    },
                ],
            },
        }
    )
    mount = {
        "name": name,
        "readOnly": True,
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
    }
    for container in spec.get("containers") or []:
        container.setdefault("volumeMounts", []).append(dict(mount))


def _namespace(obj: Obj) -> None:
    name = obj["metadata"].get("name", "")
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {"finalizers": ["kubernetes"]})
    obj.setdefault("status", {"phase": "Active"})


def _service(store: Store, obj: Obj, old: Obj | None) -> None:
    kind = kinds.SERVICE
    spec = obj.setdefault("spec", {})
    ports = spec.get("ports")
    if not isinstance(ports, list) or not ports:
        raise ApiError.invalid(
            "spec.ports: Required value", _qualified(kind), obj["metadata"]["name"]
        )
    service_type = spec.setdefault("type", "ClusterIP")
    if service_type not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        raise _invalid(kind, obj, "spec.type", service_type, "unsupported value")
    used_ips = {s["spec"].get("clusterIP") for s in store.objects(kind)}
    used_ports = {
        p.get("nodePort") for s in store.objects(kind) for p in s["spec"]["ports"]
    }
    if old is not None:
        spec["clusterIP"] = old["spec"].get("clusterIP")
    elif not spec.get("clusterIP"):
        spec["clusterIP"] = next(
            f"10.96.{n // 250}.{n % 250 + 1}"
            for n in range(60000)
            if f"10.96.{n // 250}.{n % 250 + 1}" not in used_ips
        )
    spec["clusterIPs"] = [spec["clusterIP"]]
    for i, port in enumerate(ports):
        number = port.get("port") if isinstance(port, dict) else None
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise _invalid(
                kind, obj, f"spec.ports[{i}].port", number, "must be 1-65535"
            )
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", number)
        if service_type in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            port["nodePort"] = next(
                n for n in range(30000, 32768) if n not in used_ports
            )
            used_ports.add(port["nodePort"])
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if service_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if service_type == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {"loadBalancer": {}})
