"""Compact field trees of the custom resources the lab serves, for server-side
field validation (unknown fields), written from Istio's and the Gateway API's
CRD schemas (networking.istio.io v1: DestinationRule, VirtualService, Gateway,
ServiceEntry; v1alpha3: EnvoyFilter; gateway.networking.k8s.io v1: Gateway;
telemetry.istio.io v1: Telemetry).

A tree is a dict of the known fields of an object; a field's value is another
tree (an object), a one-element list holding a tree (a list of objects), or
`ANY` (a scalar, a map with free keys, or a sub-object whose inner fields are
left unchecked, said next to it).
"""

from typing import Any

ANY = None
Tree = dict[str, Any]

_PORT: Tree = {"number": ANY}
_OUTLIER: Tree = dict.fromkeys(
    (
        "splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures",
        "consecutiveGatewayErrors", "consecutive5xxErrors", "consecutiveErrors",
        "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent",
    )
)  # fmt: skip
_POOL: Tree = {
    "tcp": {
        "maxConnections": ANY, "connectTimeout": ANY, "maxConnectionDuration": ANY,
        "idleTimeout": ANY,
        "tcpKeepalive": {"probes": ANY, "time": ANY, "interval": ANY},
    },
    "http": dict.fromkeys((
        "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
        "maxRetries", "idleTimeout", "h2UpgradePolicy", "useClientProtocol",
        "maxConcurrentStreams",
    )),
}  # fmt: skip
_LOCALITY: Tree = {
    "distribute": [{"from": ANY, "to": ANY}],
    "failover": [{"from": ANY, "to": ANY}],
    "failoverPriority": ANY,
    "enabled": ANY,
}
_LOAD_BALANCER: Tree = {
    "simple": ANY,
    "consistentHash": ANY,  # hash keys and ring settings: left unchecked
    "localityLbSetting": _LOCALITY,
    "warmupDurationSecs": ANY,
    "warmup": ANY,
}
_TLS: Tree = dict.fromkeys(
    (
        "mode", "clientCertificate", "privateKey", "caCertificates", "credentialName",
        "subjectAltNames", "sni", "insecureSkipVerify", "caCrl",
    )
)  # fmt: skip
_POLICY_FIELDS: Tree = {
    "loadBalancer": _LOAD_BALANCER,
    "connectionPool": _POOL,
    "outlierDetection": _OUTLIER,
    "tls": _TLS,
}
_TRAFFIC_POLICY: Tree = _POLICY_FIELDS | {
    "portLevelSettings": [{"port": _PORT, **_POLICY_FIELDS}],
    "tunnel": {"protocol": ANY, "targetHost": ANY, "targetPort": ANY},
    "proxyProtocol": {"version": ANY},
}
DESTINATION_RULE: Tree = {
    "host": ANY,
    "trafficPolicy": _TRAFFIC_POLICY,
    "subsets": [{"name": ANY, "labels": ANY, "trafficPolicy": _TRAFFIC_POLICY}],
    "exportTo": ANY,
    "workloadSelector": {"matchLabels": ANY},
}
_DESTINATION: Tree = {"host": ANY, "subset": ANY, "port": _PORT}
_STRING_MATCH: Tree = {"exact": ANY, "prefix": ANY, "regex": ANY}
_HTTP_MATCH: Tree = {
    "name": ANY, "uri": _STRING_MATCH, "scheme": _STRING_MATCH,
    "method": _STRING_MATCH, "authority": _STRING_MATCH,
    "headers": ANY,  # header name -> StringMatch: names are free
    "port": ANY, "sourceLabels": ANY, "gateways": ANY,
    "queryParams": ANY,  # parameter name -> StringMatch: names are free
    "ignoreUriCase": ANY,
    "withoutHeaders": ANY,  # header name -> StringMatch: names are free
    "sourceNamespace": ANY, "statPrefix": ANY,
}  # fmt: skip
_HTTP_ROUTE: Tree = {
    "name": ANY,
    "match": [_HTTP_MATCH],
    "route": [{"destination": _DESTINATION, "weight": ANY, "headers": ANY}],
    "redirect": ANY,
    "directResponse": ANY,
    "delegate": {"name": ANY, "namespace": ANY},
    "rewrite": ANY,
    "timeout": ANY,
    "retries": {
        "attempts": ANY, "perTryTimeout": ANY, "retryOn": ANY,
        "retryRemoteLocalities": ANY, "retryIgnorePreviousHosts": ANY,
        "backoff": ANY,
    },
    "fault": {
        "delay": {
            "fixedDelay": ANY, "exponentialDelay": ANY, "percentage": {"value": ANY},
            "percent": ANY,
        },
        "abort": {
            "httpStatus": ANY, "grpcStatus": ANY, "http2Error": ANY,
            "percentage": {"value": ANY},
        },
    },
    "mirror": _DESTINATION,
    "mirrors": ANY,
    "mirrorPercentage": {"value": ANY},
    "corsPolicy": ANY,
    "headers": ANY,
}  # fmt: skip
_L4_ROUTE: Tree = {
    "match": ANY,
    "route": [{"destination": _DESTINATION, "weight": ANY}],
}
VIRTUAL_SERVICE: Tree = {
    "hosts": ANY,
    "gateways": ANY,
    "http": [_HTTP_ROUTE],
    "tls": [_L4_ROUTE],
    "tcp": [_L4_ROUTE],
    "exportTo": ANY,
}
_SERVER_PORT: Tree = {"number": ANY, "protocol": ANY, "name": ANY, "targetPort": ANY}
_CERTIFICATE: Tree = {
    "serverCertificate": ANY,
    "privateKey": ANY,
    "caCertificates": ANY,
}
_SERVER_TLS: Tree = {
    "httpsRedirect": ANY, "mode": ANY, "serverCertificate": ANY, "privateKey": ANY,
    "caCertificates": ANY, "caCrl": ANY, "credentialName": ANY,
    "credentialNames": ANY, "tlsCertificates": [_CERTIFICATE],
    "subjectAltNames": ANY, "verifyCertificateSpki": ANY,
    "verifyCertificateHash": ANY, "minProtocolVersion": ANY,
    "maxProtocolVersion": ANY, "cipherSuites": ANY,
}  # fmt: skip
ISTIO_GATEWAY: Tree = {
    "selector": ANY,
    "servers": [
        {
            "port": _SERVER_PORT,
            "bind": ANY,
            "hosts": ANY,
            "tls": _SERVER_TLS,
            "name": ANY,
        }
    ],
}
_ENDPOINT_FIELDS = (
    "address", "ports", "labels", "network", "locality", "weight", "serviceAccount",
)  # fmt: skip
SERVICE_ENTRY: Tree = {
    "hosts": ANY,
    "addresses": ANY,
    "ports": [_SERVER_PORT],
    "location": ANY,
    "resolution": ANY,
    "endpoints": [
        dict.fromkeys(
            (
                "address",
                "ports",
                "labels",
                "network",
                "locality",
                "weight",
                "serviceAccount",
            )
        )
    ],
    "workloadSelector": {"labels": ANY},
    "exportTo": ANY,
    "subjectAltNames": ANY,
}
GATEWAY_API_GATEWAY: Tree = {
    "gatewayClassName": ANY,
    "listeners": [
        {
            "name": ANY,
            "hostname": ANY,
            "port": ANY,
            "protocol": ANY,
            "tls": ANY,  # certificate refs and options: left unchecked
            "allowedRoutes": ANY,  # namespaces and kinds: left unchecked
        }
    ],
    "addresses": [{"type": ANY, "value": ANY}],
    "infrastructure": {"labels": ANY, "annotations": ANY, "parametersRef": ANY},
    "backendTLS": ANY,
}

ENVOY_FILTER: Tree = {
    "workloadSelector": {"labels": ANY},
    "targetRefs": [{"group": ANY, "kind": ANY, "name": ANY, "namespace": ANY}],
    "configPatches": [
        {
            "applyTo": ANY,
            "match": ANY,  # context, proxy, listener, routeConfiguration, cluster
            "patch": {"operation": ANY, "value": ANY, "filterClass": ANY},
        }
    ],
    "priority": ANY,
}

_TARGET: Tree = {"group": ANY, "kind": ANY, "name": ANY}
_PROVIDERS = [{"name": ANY}]
TELEMETRY: Tree = {
    "selector": {"matchLabels": ANY},
    "targetRef": _TARGET,
    "targetRefs": [_TARGET],
    "tracing": ANY,  # providers, sampling, tags: left unchecked
    "metrics": ANY,  # providers, overrides: left unchecked
    "accessLogging": [
        {
            "match": {"mode": ANY},
            "providers": _PROVIDERS,
            "disabled": ANY,
            "filter": {"expression": ANY},
        }
    ],
}

SPECS: dict[tuple[str, str], Tree] = {
    ("networking.istio.io", "DestinationRule"): DESTINATION_RULE,
    ("networking.istio.io", "VirtualService"): VIRTUAL_SERVICE,
    ("networking.istio.io", "Gateway"): ISTIO_GATEWAY,
    ("networking.istio.io", "ServiceEntry"): SERVICE_ENTRY,
    ("gateway.networking.k8s.io", "Gateway"): GATEWAY_API_GATEWAY,
    ("networking.istio.io", "EnvoyFilter"): ENVOY_FILTER,
    ("telemetry.istio.io", "Telemetry"): TELEMETRY,
}


def unknown_fields(tree: Any, value: Any, path: str) -> list[str]:
    """Dotted paths (`spec.subsets[0].nme`) of the fields `tree` does not know."""
    if tree is ANY:
        return []
    if isinstance(tree, list):
        if not isinstance(value, list):
            return []
        return [
            found
            for i, item in enumerate(value)
            for found in unknown_fields(tree[0], item, f"{path}[{i}]")
        ]
    if not isinstance(value, dict):
        return []
    found = []
    for key, inner in value.items():
        where = f"{path}.{key}" if path else key
        if key not in tree:
            found.append(where)
        else:
            found += unknown_fields(tree[key], inner, where)
    return found
