"""Request bodies in Kubernetes' protobuf encoding, decoded to JSON objects.

kubectl's typed clients (`create namespace`, `create deployment`, `auth can-i`,
`auth whoami`) send `application/vnd.kubernetes.protobuf`: the 4 bytes `k8s\\0`,
then a `runtime.Unknown` (typeMeta = 1, raw = 2) whose `raw` is the object's
message. The lab decodes the messages those commands send, with the field
numbers of k8s.io/api's and k8s.io/apimachinery's `generated.proto`; a field it
does not know is a 415 naming it, never silently dropped. Answers stay JSON
(kubectl accepts both).

Go's encoder writes every non-pointer field, zero or not; as its JSON encoder
omits empty values, zero scalars and empty messages are dropped here, except
for pointer fields (`*`), where an explicit 0 means something (replicas: 0).
"""

import time
from collections.abc import Callable
from typing import Any

from chaosext.lab.errors import ApiError

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# message -> field number -> (JSON name, type); type is a scalar ("s" string,
# "i" integer, "b" bool; a "*" suffix marks a pointer), a message name, "[X]" for
# repeated X, or "{X}" for map<string, X>.
MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "bytes"),
                3: ("contentEncoding", "s"), 4: ("contentType", "s")},
    "TypeMeta": {1: ("apiVersion", "s"), 2: ("kind", "s")},
    "ObjectMeta": {
        1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"),
        4: ("selfLink", "s"), 5: ("uid", "s"), 6: ("resourceVersion", "s"),
        7: ("generation", "i"), 8: ("creationTimestamp", "Time"),
        10: ("deletionGracePeriodSeconds", "i*"), 11: ("labels", "{s}"),
        12: ("annotations", "{s}"), 14: ("finalizers", "[s]"),
    },
    "Time": {1: ("seconds", "i"), 2: ("nanos", "i")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"),
                  3: ("status", "NamespaceStatus")},
    "NamespaceSpec": {1: ("finalizers", "[s]")},
    "NamespaceStatus": {1: ("phase", "s")},
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec"),
                   3: ("status", "Ignored")},
    "DeploymentSpec": {
        1: ("replicas", "i*"), 2: ("selector", "LabelSelector"),
        3: ("template", "PodTemplateSpec"), 4: ("strategy", "DeploymentStrategy"),
        5: ("minReadySeconds", "i"), 6: ("revisionHistoryLimit", "i*"),
        7: ("paused", "b"), 9: ("progressDeadlineSeconds", "i*"),
    },
    "DeploymentStrategy": {1: ("type", "s"), 2: ("rollingUpdate", "RollingUpdate")},
    "RollingUpdate": {1: ("maxUnavailable", "IntOrString"),
                      2: ("maxSurge", "IntOrString")},
    "IntOrString": {1: ("type", "i"), 2: ("intVal", "i"), 3: ("strVal", "s")},
    "LabelSelector": {1: ("matchLabels", "{s}"),
                      2: ("matchExpressions", "[Requirement]")},
    "Requirement": {1: ("key", "s"), 2: ("operator", "s"), 3: ("values", "[s]")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {
        2: ("containers", "[Container]"), 3: ("restartPolicy", "s"),
        4: ("terminationGracePeriodSeconds", "i*"), 6: ("dnsPolicy", "s"),
        7: ("nodeSelector", "{s}"), 8: ("serviceAccountName", "s"),
        9: ("serviceAccount", "s"),
        10: ("nodeName", "s"), 11: ("hostNetwork", "b"), 12: ("hostPID", "b"),
        13: ("hostIPC", "b"), 16: ("hostname", "s"), 17: ("subdomain", "s"),
        19: ("schedulerName", "s"), 24: ("priorityClassName", "s"),
    },
    "Container": {
        1: ("name", "s"), 2: ("image", "s"), 3: ("command", "[s]"),
        4: ("args", "[s]"), 5: ("workingDir", "s"), 6: ("ports", "[ContainerPort]"),
        7: ("env", "[EnvVar]"), 8: ("resources", "Resources"),
        13: ("terminationMessagePath", "s"), 14: ("imagePullPolicy", "s"),
        16: ("stdin", "b"), 17: ("stdinOnce", "b"), 18: ("tty", "b"),
        20: ("terminationMessagePolicy", "s"),
    },
    "ContainerPort": {1: ("name", "s"), 2: ("hostPort", "i"),
                      3: ("containerPort", "i"), 4: ("protocol", "s"),
                      5: ("hostIP", "s")},
    "EnvVar": {1: ("name", "s"), 2: ("value", "s")},
    "Resources": {1: ("limits", "{Quantity}"), 2: ("requests", "{Quantity}")},
    "Quantity": {1: ("string", "s")},
    "Ignored": {},  # a status the server sets itself: its content is skipped
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta"),
                                2: ("spec", "AccessReviewSpec"),
                                3: ("status", "Ignored")},
    "AccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                         2: ("nonResourceAttributes", "NonResourceAttributes")},
    "ResourceAttributes": {1: ("namespace", "s"), 2: ("verb", "s"), 3: ("group", "s"),
                           4: ("version", "s"), 5: ("resource", "s"),
                           6: ("subresource", "s"), 7: ("name", "s")},
    "NonResourceAttributes": {1: ("path", "s"), 2: ("verb", "s")},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta"),
                               2: ("spec", "RulesReviewSpec"),
                               3: ("status", "Ignored")},
    "RulesReviewSpec": {1: ("namespace", "s")},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta"), 2: ("status", "Ignored")},
}  # fmt: skip
ROOTS = {
    "Namespace",
    "Deployment",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SelfSubjectReview",
}


def _unsupported(why: str) -> ApiError:
    return ApiError(
        415,
        f"the lab cannot decode this protobuf body ({why}); it decodes "
        f"{', '.join(sorted(ROOTS))}: send it as application/json",
    )


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data):
            raise _unsupported("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) of each field in a message."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    value: Any
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, pos = int.from_bytes(data[pos : pos + width], "little"), pos + width
        else:
            raise _unsupported(f"wire type {wire}")
        out.append((number, wire, value))
    return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "s": lambda raw: bytes(raw).decode("utf-8"),
    "i": lambda raw: _signed(int(raw)),
    "b": lambda raw: bool(raw),
    "bytes": bytes,
}


def _value(type_: str, raw: Any) -> Any:
    scalar = _SCALARS.get(type_.rstrip("*"))
    if type_ == "Ignored":
        return {}
    return scalar(raw) if scalar else decode_message(type_, raw)


def decode_message(name: str, data: bytes) -> dict[str, Any]:
    schema = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, _, raw in _fields(data):
        if number not in schema:
            raise _unsupported(f"field {number} of {name}")
        field, type_ = schema[number]
        if type_.startswith("["):
            out.setdefault(field, []).append(_value(type_[1:-1], raw))
        elif type_.startswith("{"):
            entry = {n: r for n, _, r in _fields(raw)}
            key = _value("s", entry.get(1, b""))
            out.setdefault(field, {})[key] = _value(type_[1:-1], entry.get(2, b""))
        else:
            out[field] = _value(type_, raw)
    return _json(name, out)


def _json(name: str, out: dict[str, Any]) -> dict[str, Any]:
    """Go's JSON view of a decoded message: special types, then no empty values."""
    if name == "Time":
        return out  # turned into a timestamp (or dropped) by the caller below
    result: dict[str, Any] = {}
    types = dict(MESSAGES[name].values())
    for field, value in out.items():
        type_ = types[field]
        if type_ == "Time":
            value = _time(value)
        elif type_ == "IntOrString":
            value = (
                value.get("strVal", "") if value.get("type") else value.get("intVal", 0)
            )
        elif type_ == "{Quantity}":
            value = {k: v.get("string", "") for k, v in value.items()}
        if type_.endswith("*") or value not in ("", 0, False, {}, [], None):
            result[field] = value
    return result


def _time(value: dict[str, Any]) -> str | None:
    seconds = value.get("seconds", 0)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)) if seconds else None
    )


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf request body as the JSON object it stands for."""
    if not body.startswith(MAGIC):
        raise _unsupported("no k8s protobuf envelope")
    envelope = decode_message("Unknown", body[len(MAGIC) :])
    type_meta = envelope.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    if kind not in ROOTS:
        raise _unsupported(f"kind {kind or '(none)'}")
    obj = decode_message(kind, envelope.get("raw", b""))
    return {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind, **obj}
