"""Hostname extractors: bare, json:<path>, hello, auto."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes import extract

HELLO = "Hello, world!\nVersion: 1.0.0\nHostname: hello-world-5d8f9b6c54-x7k2p\n"


@pytest.mark.parametrize(
    ("spec", "body", "expected"),
    [
        ("bare", "in-ambient-7d8f9b6c54-abc12\n", "in-ambient-7d8f9b6c54-abc12"),
        ("bare", '"in-ambient-7d8f9b6c54-abc12"\n', "in-ambient-7d8f9b6c54-abc12"),
        ("bare", "  pod.ns.svc:8080 ", "pod.ns.svc:8080"),
        ("bare", "no healthy upstream", None),
        ("bare", "<html>oops</html>", None),
        ("bare", '"two words"', None),
        ("bare", "", None),
        ("hello", HELLO, "hello-world-5d8f9b6c54-x7k2p"),
        ("hello", HELLO.replace("\n", "\r\n"), "hello-world-5d8f9b6c54-x7k2p"),
        ("hello", "Hello, world!\nHostname:\n", None),
        ("hello", "pod-a", None),
        ("json:hostname", '{"hostname": "pod-a"}', "pod-a"),
        ("json:pod.name", '{"pod": {"name": "pod-b"}}', "pod-b"),
        ("json:items.1", '{"items": ["pod-a", "pod-c"]}', "pod-c"),
        ("json:items.5", '{"items": ["pod-a"]}', None),
        ("json:hostname", '{"hostname": 42}', None),
        ("json:hostname", "not json", None),
        ("auto", HELLO, "hello-world-5d8f9b6c54-x7k2p"),
        ("auto", '{"Hostname": "pod-d"}', "pod-d"),
        ("auto", '{"pod": "pod-e", "zone": "z1"}', "pod-e"),
        ("auto", '{"status": "ok"}', None),
        ("auto", "in-ambient-8e9f0c7d65-xyz98", "in-ambient-8e9f0c7d65-xyz98"),
        ("auto", '"pod-f"', "pod-f"),
        ("auto", "upstream connect error or disconnect/reset before headers", None),
        ("auto", "\x00\x01garbage", None),
    ],
)
def test_extractors(spec: str, body: str, expected: str | None) -> None:
    """Each spec finds the pod in its body shape and gives None for anything else."""
    assert extract.get_extractor(spec)(body) == expected


@pytest.mark.parametrize("spec", ["xml", "json:", "json:a..b", "Bare"])
def test_unknown_spec_is_a_clear_error(spec: str) -> None:
    """An unknown spec raises ValueError naming it and the valid ones."""
    with pytest.raises(ValueError, match="extractor"):
        extract.get_extractor(spec)


def test_callable_passes_through() -> None:
    """A callable is its own extractor."""
    upper = str.upper
    assert extract.get_extractor(upper) is upper


@given(st.text(max_size=300))
def test_answers_are_single_tokens(body: str) -> None:
    """Whatever the body, `auto` returns None or one hostname-like token."""
    found = extract.auto(body)
    assert found is None or (found.strip() == found and 0 < len(found) <= 253)
