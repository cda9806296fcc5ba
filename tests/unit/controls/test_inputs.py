"""Inputs are checked before anything changes: each problem names its culprit."""

import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.configuration import load_configuration

from chaosext import runcontext
from chaosext.controls import inputs
from chaosext.controls.refusal import refused
from tests.drills.drilling import ROOT

EXPERIMENT = ROOT / "experiments" / "region_outage.json"


def experiment() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXPERIMENT.read_text())
    return data


def configuration(**extra: Any) -> dict[str, Any]:
    loaded = load_configuration(dict(experiment()["configuration"]))
    return {**loaded, **extra}


DECLARED = set(experiment()["configuration"])

VAR_FILES = {
    "not YAML": ("configuration:\n  a: [unclosed\n", ["vars.yaml:3:1", "not valid"]),
    "a list": ("- cluster_a_context\n", ["vars.yaml:1", "not a list"]),
    "a key outside configuration": (
        "namespace: prod\n",
        ["vars.yaml:1", "'namespace'", "put it under 'configuration:'"],
    ),
    "a misspelt key": (
        "configuration:\n  cluster_a_contxt: prod-a\n",
        ["vars.yaml:2", "'cluster_a_contxt'", "did you mean 'cluster_a_context'"],
    ),
    "configuration not a mapping": (
        "configuration: [1, 2]\n",
        ["vars.yaml:1", "'configuration' must be a mapping"],
    ),
}


@pytest.mark.parametrize(
    ("text", "culprits"), list(VAR_FILES.values()), ids=list(VAR_FILES)
)
def test_a_bad_var_file_is_named_with_its_line(
    tmp_path: Path, text: str, culprits: list[str]
) -> None:
    """Each var file problem names the file, the line and what is wrong."""
    path = tmp_path / "vars.yaml"
    path.write_text(text)
    (problem,) = inputs.var_file_problems(path, DECLARED)
    for culprit in culprits:
        assert culprit in problem, (culprit, problem)


def test_a_good_var_file_has_no_problem(tmp_path: Path) -> None:
    """The shipped example var file declares only keys the experiment knows."""
    path = ROOT / "experiments" / "config" / "example-guide-000.yaml"
    assert inputs.var_file_problems(path, DECLARED) == []


def test_a_missing_var_file_is_named(tmp_path: Path) -> None:
    """chaoslib only logs a var file it cannot read; the drill names it."""
    (problem,) = inputs.var_file_problems(tmp_path / "nope.yaml", DECLARED)
    assert str(tmp_path / "nope.yaml") in problem


def test_a_misspelt_var_is_named_with_the_close_match() -> None:
    """`--var cluster_a_contxt=...` names the key and suggests the declared one."""
    found = inputs.problems(
        experiment(), configuration(), {}, options={"var": {"cluster_a_contxt": "x"}}
    )
    assert found == [
        "--var cluster_a_contxt: the experiment declares no configuration key"
        " 'cluster_a_contxt'; did you mean 'cluster_a_context'?"
    ]


ARGUMENTS = {
    "tolerance out of range": (
        {"failover_tolerance": 1.5},
        "activity 'all-traffic-fails-over-to-cluster-b'",
        "tolerance: must be in (0, 1), got 1.5",
    ),
    "samples zero": (
        {"samples": "0"},
        "activity 'traffic-splits-50-50'",
        "argument 'samples' must be at least 1, got 0",
    ),
    "deadline not a number": (
        {"recovery_deadline": "soon"},
        "activity 'traffic-returns-to-50-50'",
        "argument 'deadline' must be a number, got 'soon'",
    ),
    "ingress service without namespace": (
        {"ingress_service": "gateway"},
        "activity 'traffic-splits-50-50'",
        "'source.ingress.service' must be 'namespace/name'",
    ),
}


@pytest.mark.parametrize(
    ("values", "activity", "message"), list(ARGUMENTS.values()), ids=list(ARGUMENTS)
)
def test_every_activity_argument_is_checked_up_front(
    values: dict[str, Any], activity: str, message: str
) -> None:
    """A bad value in any activity, method ones included, is found before a run."""
    found = inputs.problems(experiment(), configuration(**values), {}, options={})
    assert any(activity in p and message in p for p in found), found


def test_unknown_and_unresolved_arguments_are_named() -> None:
    """An argument the function lacks, or a `${...}` nothing declares, is named."""
    exp = experiment()
    arguments = exp["method"][0]["provider"]["arguments"]
    arguments["deployement"] = "x"
    arguments["namespace"] = "${name_space}"
    found = inputs.problems(exp, configuration(), {}, options={})
    assert any(
        "has no argument 'deployement'" in p and "did you mean 'deployment'" in p
        for p in found
    ), found
    assert any("refers to ${name_space}" in p for p in found), found


def test_the_shipped_experiments_have_no_problem() -> None:
    """Every tier's own defaults pass the up-front checks."""
    for path in sorted((ROOT / "experiments").glob("*.json")):
        data = json.loads(path.read_text())
        loaded = load_configuration(dict(data["configuration"]))
        assert inputs.problems(data, loaded, {}, options={}) == [], path.name


def test_a_kubeconfig_that_is_not_yaml_refuses_in_one_line(tmp_path: Path) -> None:
    """A real-cluster run with an unreadable kubeconfig is refused; nothing runs."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("clusters: [unclosed\n")
    config = configuration(
        kubeconfig=str(kubeconfig), allowed_contexts=["cluster-a", "cluster-b"]
    )
    with pytest.raises(SystemExit):
        inputs.before_experiment_control(experiment(), config, {})
    reason = str(refused(config))
    assert f"kubeconfig {kubeconfig} is not valid YAML at line 2" in reason
    assert "nothing was done" in reason
    assert "\n" not in reason
    assert runcontext.of(config) is not None


def test_a_missing_kubeconfig_refuses(tmp_path: Path) -> None:
    """allowed_contexts set, kubeconfig missing: a one-line refusal."""
    config = configuration(
        kubeconfig=str(tmp_path / "nope"), allowed_contexts=["cluster-a"]
    )
    with pytest.raises(SystemExit):
        inputs.before_experiment_control(experiment(), config, {})
    assert f"kubeconfig {tmp_path / 'nope'}" in str(refused(config))
    assert "missing" in str(refused(config))


def test_a_safeguard_source_is_checked_with_the_rest() -> None:
    """The drill control's safeguards are inputs too: a bad source refuses."""
    config = configuration()
    with pytest.raises(SystemExit):
        inputs.before_experiment_control(
            experiment(),
            config,
            {},
            safeguards={"error_budget": {"source": {"ingress": {"service": "gw"}}}},
        )
    assert "safeguards.error_budget: argument 'source.ingress.service'" in str(
        refused(config)
    )


SLOW_UPSTREAM = ROOT / "experiments" / "slow_upstream.json"
FAULT_ARGUMENTS = {
    "selector and host": (
        {"host": "hello-world"},
        "activity 'cluster-a-answers-slowly'",
        "give exactly one of `selector`",
    ),
    "nothing to inject": (
        {"delay": 0},
        "activity 'cluster-a-answers-slowly'",
        "nothing to inject: status 0 and no delay",
    ),
    "a percentage out of range": (
        {"delay_percentage": 150},
        "activity 'cluster-a-answers-slowly'",
        "percentage and delay_percentage are in (0, 100]",
    ),
    "a wildcard host": (
        {"selector": "", "host": "*.default.svc.cluster.local"},
        "activity 'cluster-a-answers-slowly'",
        "host '*.default.svc.cluster.local': one DNS name",
    ),
}


@pytest.mark.parametrize(
    ("arguments", "activity", "message"),
    list(FAULT_ARGUMENTS.values()),
    ids=list(FAULT_ARGUMENTS),
)
def test_the_fault_target_is_checked_up_front(
    arguments: dict[str, Any], activity: str, message: str
) -> None:
    """inject_http_fault: a fault that does something, exactly one of selector and
    host, a host one DNS name."""
    exp = json.loads(SLOW_UPSTREAM.read_text())
    exp["method"][0]["provider"]["arguments"].update(arguments)
    config = load_configuration(dict(exp["configuration"]))
    found = inputs.problems(exp, config, {}, options={})
    assert any(activity in p and message in p for p in found), found


def test_latency_bounds_are_checked_up_front() -> None:
    """A latency bound that is no number of seconds is named before the run."""
    exp = json.loads(SLOW_UPSTREAM.read_text())
    config = {**load_configuration(dict(exp["configuration"])), "fault_delay": "slow"}
    found = inputs.problems(exp, config, {}, options={})
    assert any(
        "activity 'share-unchanged-while-cluster-a-is-slow'" in p
        and "latency_at_least[${cluster_a_context}]" in p
        for p in found
    ), found
