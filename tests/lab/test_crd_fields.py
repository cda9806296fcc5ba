"""Field validation reaches inside VirtualService `http[].match` and Istio Gateway
`servers[].tls` (istio/api `networking/v1alpha3/virtual_service.proto`
HTTPMatchRequest and StringMatch, `gateway.proto` ServerTLSSettings)."""

from typing import Any

import pytest

from chaosext.lab import fieldvalidation, kinds

VIRTUAL_SERVICE = kinds.by_kind("networking.istio.io/v1", "VirtualService")
GATEWAY = kinds.by_kind("networking.istio.io/v1", "Gateway")


def virtual_service(match: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews"},
        "spec": {
            "hosts": ["reviews"],
            "http": [{"match": match, "route": [{"destination": {"host": "reviews"}}]}],
        },
    }


def gateway(tls: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "edge"},
        "spec": {
            "servers": [
                {
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": ["*"],
                    "tls": tls,
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("match", "unknown"),
    [
        ([{"uri": {"prefix": "/api"}, "headers": {"x-user": {"exact": "a"}}}], []),
        ([{"uri": {"prefx": "/api"}}], ["spec.http[0].match[0].uri.prefx"]),
        ([{"url": {"prefix": "/"}}], ["spec.http[0].match[0].url"]),
        (
            [{"method": {"exact": "GET"}}, {"authority": {"exactly": "a"}}],
            ["spec.http[0].match[1].authority.exactly"],
        ),
    ],
)
def test_virtual_service_http_match_fields(
    match: list[dict[str, Any]], unknown: list[str]
) -> None:
    """Unknown fields of a match or its StringMatch are named; header names free."""
    assert VIRTUAL_SERVICE is not None
    obj = virtual_service(match)
    assert fieldvalidation.unknown_fields(VIRTUAL_SERVICE, "v1", obj) == unknown


@pytest.mark.parametrize(
    ("tls", "unknown"),
    [
        ({"mode": "SIMPLE", "credentialName": "edge-cert"}, []),
        (
            {"mode": "SIMPLE", "credentialNmae": "x"},
            ["spec.servers[0].tls.credentialNmae"],
        ),
        (
            {
                "mode": "MUTUAL",
                "tlsCertificates": [{"serverCertificate": "a", "key": "b"}],
            },
            ["spec.servers[0].tls.tlsCertificates[0].key"],
        ),
    ],
)
def test_gateway_server_tls_fields(tls: dict[str, Any], unknown: list[str]) -> None:
    """Unknown ServerTLSSettings fields are named."""
    assert GATEWAY is not None
    assert fieldvalidation.unknown_fields(GATEWAY, "v1", gateway(tls)) == unknown
