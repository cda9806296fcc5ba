"""The blast-radius guard: refuse before anything runs, naming what is out of bounds."""

from typing import Any

import pytest

from chaosext import clusters
from chaosext.controls import guard
from chaosext.controls.refusal import refused

EXPERIMENT: dict[str, Any] = {
    "steady-state-hypothesis": {
        "probes": [
            {
                "name": "split",
                "provider": {
                    "arguments": {
                        "workload": {
                            "contexts": ["${a_context}", "${b_context}"],
                            "namespace": "${namespace}",
                        }
                    }
                },
            }
        ]
    },
    "method": [
        {
            "name": "scale",
            "provider": {
                "arguments": {"context": "${a_context}", "namespace": "${namespace}"}
            },
        }
    ],
    "rollbacks": [],
}


def config(**extra: Any) -> dict[str, Any]:
    return {
        "kubeconfig": "/tmp/k",
        "a_context": "prod-a",
        "b_context": "prod-b",
        "namespace": "default",
        **extra,
    }


def test_referenced_finds_contexts_and_namespaces_after_substitution():
    """Nested `contexts` lists and plain `context` keys are all found."""
    found = {(k, v) for _, k, v in guard.referenced(EXPERIMENT, config(), {})}
    assert found == {
        ("contexts", "prod-a"),
        ("contexts", "prod-b"),
        ("namespace", "default"),
        ("context", "prod-a"),
    }


def test_real_clusters_without_an_allow_list_are_refused():
    """No allowed_contexts on a real kubeconfig: refuse, nothing done."""
    configuration = config()
    with pytest.raises(SystemExit) as exc:
        guard.before_experiment_control(EXPERIMENT, configuration=configuration)
    assert exc.value.code == 30  # chaoslib: no rollbacks
    assert "allowed_contexts" in str(refused(configuration))


def test_a_context_outside_the_allow_list_is_named():
    """The refusal names the context and the activity that names it."""
    configuration = config(allowed_contexts=["prod-a"])
    with pytest.raises(SystemExit):
        guard.before_experiment_control(EXPERIMENT, configuration=configuration)
    assert "'prod-b'" in str(refused(configuration))
    assert "activity 'split'" in str(refused(configuration))


def test_a_namespace_outside_the_allow_list_is_named():
    """allowed_namespaces, when set, bounds every namespace an activity names."""
    configuration = config(
        allowed_contexts="prod-a, prod-b", allowed_namespaces=["payments"]
    )
    with pytest.raises(SystemExit):
        guard.before_experiment_control(EXPERIMENT, configuration=configuration)
    assert "namespace 'default'" in str(refused(configuration))


def test_an_allowed_drill_starts():
    """Everything inside the allow-lists: the guard lets the run go on."""
    configuration = config(allowed_contexts=["prod-a", "prod-b"])
    guard.before_experiment_control(EXPERIMENT, configuration=configuration)
    assert refused(configuration) is None


def test_connect_refuses_a_context_outside_the_allow_list():
    """The guard holds at run time too: connect() never opens such a context."""
    connecting = clusters.connect("prod-c", {"allowed_contexts": ["prod-a"]})
    with pytest.raises(clusters.ClusterError, match="blast-radius guard"):
        connecting.__enter__()
