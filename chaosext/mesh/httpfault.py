"""The Istio `EnvoyFilter` that makes a workload's own sidecar answer with a fault.

On a sidecar mesh, a platform team makes a workload fail without touching it by
inserting Envoy's HTTP fault filter (`envoy.filters.http.fault`) into that
workload's INBOUND listener, before the router, scoped by `workloadSelector` to
the workload's labels. The workload stays up and Ready; its sidecar answers the
configured status (abort) or holds requests (delay) for the configured share of
requests, so callers see real upstream 5xx and their outlier detection ejects it.

`envoy_filter` builds that object; `inbound_fault` reads the fault back from any
EnvoyFilter spec (the lab's sidecars do, from the object alone).
"""

import re
from dataclasses import dataclass
from typing import Any

from chaosext.mesh import kube

API_VERSION = "networking.istio.io/v1alpha3"
KIND = "EnvoyFilter"
FAULT_FILTER = "envoy.filters.http.fault"
FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
HCM = "envoy.filters.network.http_connection_manager"
ROUTER = "envoy.filters.http.router"
INBOUND_CONTEXTS = ("SIDECAR_INBOUND", "ANY")
INSERTS = ("INSERT_BEFORE", "INSERT_FIRST", "INSERT_AFTER", "ADD")
DENOMINATORS = {"HUNDRED": 100.0, "TEN_THOUSAND": 10_000.0, "MILLION": 1_000_000.0}


@dataclass(frozen=True)
class HttpFault:
    """What the fault filter does to a share of a workload's inbound requests."""

    status: int | None = None  # abort with this HTTP status
    abort_percent: float = 100.0
    delay: float = 0.0  # seconds, before the request goes on (or is aborted)
    delay_percent: float = 100.0

    def describe(self) -> str:
        parts = []
        if self.delay:
            parts.append(f"delay {self.delay:g} s on {self.delay_percent:g}%")
        if self.status is not None:
            parts.append(f"abort {self.status} on {self.abort_percent:g}%")
        return ", ".join(parts) or "no fault"


def _percentage(percent: float) -> dict[str, Any]:
    """Envoy's FractionalPercent, in ten-thousandths so 0.5% is exact."""
    return {"numerator": round(percent * 100), "denominator": "TEN_THOUSAND"}


def _duration(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def typed_config(fault: HttpFault) -> dict[str, Any]:
    config: dict[str, Any] = {"@type": FAULT_TYPE}
    if fault.status is not None:
        config["abort"] = {
            "http_status": fault.status,
            "percentage": _percentage(fault.abort_percent),
        }
    if fault.delay:
        config["delay"] = {
            "fixed_delay": _duration(fault.delay),
            "percentage": _percentage(fault.delay_percent),
        }
    return config


def envoy_filter(
    name: str,
    namespace: str,
    workload_labels: dict[str, str],
    fault: HttpFault,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The EnvoyFilter putting `fault` on the inbound listener of the selected pods."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": kube.object_meta(name, namespace, labels, annotations),
        "spec": {
            "workloadSelector": {"labels": dict(workload_labels)},
            "configPatches": [
                {
                    "applyTo": "HTTP_FILTER",
                    "match": {
                        "context": "SIDECAR_INBOUND",
                        "listener": {
                            "filterChain": {
                                "filter": {
                                    "name": HCM,
                                    "subFilter": {"name": ROUTER},
                                }
                            }
                        },
                    },
                    "patch": {
                        "operation": "INSERT_BEFORE",
                        "value": {
                            "name": FAULT_FILTER,
                            "typed_config": typed_config(fault),
                        },
                    },
                }
            ],
        },
    }


def selects(spec: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    """Whether an EnvoyFilter of the pod's namespace applies to the pod.

    No `workloadSelector` (and no `targetRefs`): every workload of the namespace.
    """
    if spec.get("targetRefs"):
        return False  # waypoints and gateways only: never a sidecar
    wanted = (spec.get("workloadSelector") or {}).get("labels") or {}
    return all(pod_labels.get(k) == v for k, v in wanted.items())


def inbound_fault(spec: dict[str, Any]) -> HttpFault | None:
    """The HTTP fault an EnvoyFilter spec inserts on the inbound listener, if any."""
    for patch in spec.get("configPatches") or []:
        if not isinstance(patch, dict) or patch.get("applyTo") != "HTTP_FILTER":
            continue
        context = (patch.get("match") or {}).get("context", "ANY")
        body = patch.get("patch") or {}
        if context not in INBOUND_CONTEXTS or body.get("operation") not in INSERTS:
            continue
        value = body.get("value") or {}
        if value.get("name") != FAULT_FILTER:
            continue
        config = value.get("typed_config") or value.get("typedConfig") or {}
        fault = _fault(config)
        if fault is not None:
            return fault
    return None


def _get(data: dict[str, Any], snake: str) -> Any:
    """A protobuf JSON field by its proto name or its lowerCamelCase name."""
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)
    return data.get(snake, data.get(camel))


def _percent(data: dict[str, Any]) -> float:
    share = _get(data, "percentage")
    if not isinstance(share, dict):
        return 100.0
    denominator = DENOMINATORS.get(str(share.get("denominator", "HUNDRED")), 100.0)
    return 100.0 * float(share.get("numerator", 0)) / denominator


def _seconds(text: Any) -> float:
    if isinstance(text, str) and text.endswith("s"):
        return max(0.0, float(text[:-1]))
    raise ValueError(f"not a protobuf Duration: {text!r}")


def _fault(config: dict[str, Any]) -> HttpFault | None:
    try:
        abort = config.get("abort") or {}
        delay = config.get("delay") or {}
        status = _get(abort, "http_status")
        fixed = _get(delay, "fixed_delay")
        fault = HttpFault(
            status=int(status) if status is not None else None,
            abort_percent=_percent(abort),
            delay=_seconds(fixed) if fixed is not None else 0.0,
            delay_percent=_percent(delay),
        )
    except (ValueError, TypeError, AttributeError):
        return None
    if fault.status is None and not fault.delay:
        return None
    return fault
