"""`expected: "predicted"`: the split the mesh's own config predicts, read live.

A split probe (`hostname_split`, `wait_for_split`) given `expected: "predicted"`
reads the live mesh once (`chaosext.live.reader`: endpoints with their locality
and readiness, the ServiceConfig istiod builds, the choosing proxy for the
client), predicts where the client's requests go in the present state
(`chaosext.live.explain.predict`), and judges the sampled traffic against that
prediction with the usual statistics (counts, Wilson intervals, `inconclusive`).

The client is the probe's `source`: the exec pod, or the ingress Service's first
live pod. The host is the exec source's URL; for an ingress source, the
workload's Service (the one whose selector the workload's pods match).
"""

from collections.abc import Mapping
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext import clusters
from chaosext.live import explain, reader
from chaosext.live.state import MeshState, StateError
from chaosext.mesh import kube, names
from chaosext.mesh.whatif import Prediction, PredictionError

__all__ = ["PREDICTED", "expected_split", "predict_now"]

PREDICTED = "predicted"
DIMENSIONS = ("cluster", "region", "zone", "pod")


def _selector(text: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in text.split(",") if item.strip())
    return {k.strip(): v.strip() for k, _, v in pairs}


def _workload_host(state: MeshState, workload: Mapping[str, Any]) -> str:
    """The host of the Service that selects the workload's pods."""
    namespace = str(workload.get("namespace", "default"))
    wanted = _selector(str(workload.get("selector", "")))
    pod = {"metadata": {"labels": wanted}}
    for context in state.clusters:
        for service in state.cluster(context).services:
            if service["metadata"]["namespace"] == namespace and kube.selects(
                service, pod
            ):
                name = service["metadata"]["name"]
                return f"{name}.{namespace}.{names.CLUSTER_DOMAIN}"
    raise StateError(
        f"no Service in namespace {namespace} selects {workload.get('selector')!r}"
    )


def _ingress_pod(state: MeshState, context: str, service_ref: str) -> tuple[str, str]:
    """(namespace, pod name) of the first live pod an ingress Service selects."""
    namespace, _, name = service_ref.partition("/")
    objects = state.cluster(context)
    service = next(
        (
            s
            for s in objects.services
            if s["metadata"]["name"] == name and s["metadata"]["namespace"] == namespace
        ),
        None,
    )
    if service is None:
        raise StateError(f"no service {service_ref} in context {context}")
    pods = sorted(
        p["metadata"]["name"]
        for p in objects.pods
        if kube.is_live(p) and kube.selects(service, p)
    )
    if not pods:
        raise StateError(f"service {service_ref} selects no live pod in {context}")
    return namespace, pods[0]


def predict_now(
    source: Mapping[str, Any],
    workload: Mapping[str, Any],
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
) -> Prediction:
    """Read the mesh (the workload's and the client's contexts) and predict."""
    if "exec" not in source and "ingress" not in source:
        raise ActivityFailed(
            "expected 'predicted' needs an exec or ingress source (whose client to"
            " predict for); a bare URL names none"
        )
    contexts = [str(c) for c in workload.get("contexts") or []]
    try:
        kubeconfig = clusters.kubeconfig_path(configuration, secrets)
        if "exec" in source:
            e = source["exec"]
            context = str(e.get("context", ""))
            state = reader.read_mesh(kubeconfig, dict.fromkeys([*contexts, context]))
            return explain.predict(
                state,
                str(e.get("pod", "")),
                str(source.get("url", "")),
                context=context,
                namespace=str(e.get("namespace", "default")),
            )
        i = source["ingress"]
        context = str(i.get("context", ""))
        state = reader.read_mesh(kubeconfig, dict.fromkeys([*contexts, context]))
        namespace, pod = _ingress_pod(state, context, str(i.get("service", "")))
        return explain.predict(
            state,
            pod,
            _workload_host(state, workload),
            context=context,
            namespace=namespace,
        )
    except (clusters.ClusterError, reader.ReadError) as exc:
        raise ActivityFailed(
            f"expected 'predicted': the mesh cannot be read: {exc}"
        ) from exc
    except (StateError, PredictionError) as exc:
        raise ActivityFailed(f"expected 'predicted': {exc}") from exc


def expected_split(
    expected: Any,
    source: Mapping[str, Any],
    workload: Mapping[str, Any],
    by: str,
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
) -> Any:
    """`expected` as given, or for "predicted" the predicted shares by `by`.

    Destinations predicted to get nothing are left out (the split statistics then
    expect 0 there only implicitly: an answer from one is judged as outside).
    ActivityFailed when nothing would answer (the prediction's notes say why).
    """
    if expected != PREDICTED:
        return expected
    if by not in DIMENSIONS:
        raise ActivityFailed(
            f"expected 'predicted' is by one of {', '.join(DIMENSIONS)}, not {by!r}"
        )
    prediction = predict_now(source, workload, configuration, secrets)
    shares = {k: round(v, 6) for k, v in prediction.by(by).items() if v > 1e-9}
    if not shares:
        raise ActivityFailed(
            f"expected 'predicted': no endpoint of {prediction.host} would answer"
            f" ({'; '.join(prediction.notes)})"
        )
    return shares
