"""sample_http against a loopback server: answers, error kinds, deadline, keep-alive."""

import json
import socket

import pytest
import requests
from urllib3.connection import HTTPConnection
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from probes import sampling

from .conftest import PodServer


def test_counts_every_answer(pod_server: PodServer) -> None:
    """Twenty answers from two pods are counted 10/10 with no errors."""
    sample = sampling.sample_http(f"{pod_server.url}/rotate", 20, concurrency=4)
    assert sample.counts() == {"pod-a": 10, "pod-b": 10}
    assert (sample.errors, sample.total, len(sample.answers)) == ({}, 20, 20)


@pytest.mark.parametrize(
    ("path", "extractor", "expected"),
    [
        ("hostname/in-ambient-7d8f9b6c54-abc12", "bare", "in-ambient-7d8f9b6c54-abc12"),
        ("hello/hello-world-xyz", "hello", "hello-world-xyz"),
        ("hello/hello-world-xyz", "auto", "hello-world-xyz"),
        ("json/pod-j", "json:hostname", "pod-j"),
    ],
)
def test_extractor_applies(
    pod_server: PodServer, path: str, extractor: str, expected: str
) -> None:
    """The chosen extractor turns each body into the pod's hostname."""
    sample = sampling.sample_http(f"{pod_server.url}/{path}", 3, extractor=extractor)
    assert sample.answers == [expected] * 3


def test_non_2xx_is_a_status_error_without_retry(pod_server: PodServer) -> None:
    """503s count as status_503, and each request reaches the server exactly once."""
    sample = sampling.sample_http(f"{pod_server.url}/status/503", 6, concurrency=3)
    assert (sample.answers, sample.errors) == ([], {"status_503": 6})
    assert pod_server.hits["status"] == 6


def test_slow_answer_is_a_timeout(pod_server: PodServer) -> None:
    """A server that does not answer within the read timeout gives timeouts."""
    sample = sampling.sample_http(f"{pod_server.url}/slow", 2, timeout=0.2)
    assert sample.errors == {"timeout": 2}


@pytest.mark.parametrize("path", ["close", "reset"])
def test_dropped_connection_is_a_reset_without_retry(
    pod_server: PodServer, path: str
) -> None:
    """A connection closed or reset before the answer counts once, as reset."""
    sample = sampling.sample_http(f"{pod_server.url}/{path}", 4, concurrency=2)
    assert sample.errors == {"reset": 4}
    assert pod_server.hits[path] == 4


def test_refused_connection_is_connect(refused_url: str) -> None:
    """Nobody listening gives connect errors."""
    sample = sampling.sample_http(refused_url, 3)
    assert sample.errors == {"connect": 3}


@pytest.mark.parametrize("path", ["garbage", "big", "frame"])
def test_body_without_hostname_is_unparsable(pod_server: PodServer, path: str) -> None:
    """A 2xx body naming no pod (error page, huge body) is unparsable, not a pod."""
    sample = sampling.sample_http(f"{pod_server.url}/{path}", 2, extractor="bare")
    assert (sample.answers, sample.errors) == ([], {"unparsable": 2})


def test_host_header_is_sent(pod_server: PodServer) -> None:
    """``host`` sets the Host header, as an ingress gateway's virtual host needs."""
    sample = sampling.sample_http(f"{pod_server.url}/host", 2, host="hello.example")
    assert sample.answers == ["hello.example", "hello.example"]


def test_deadline_always_returns(pod_server: PodServer) -> None:
    """Requests still hanging at the deadline count as deadline errors."""
    sample = sampling.sample_http(
        f"{pod_server.url}/slow", 5, concurrency=2, timeout=30.0, deadline=0.3
    )
    assert (sample.answers, sample.errors, sample.total) == ([], {"deadline": 5}, 5)


def test_workers_keep_connections_alive(pod_server: PodServer) -> None:
    """Each worker reuses one keep-alive connection: no more than `concurrency`."""
    sample = sampling.sample_http(f"{pod_server.url}/rotate", 40, concurrency=4)
    assert len(sample.answers) == 40
    assert 1 <= len(pod_server.connections) <= 4


def test_zero_count_is_an_empty_sample(pod_server: PodServer) -> None:
    """Asking for nothing sends nothing."""
    sample = sampling.sample_http(f"{pod_server.url}/rotate", 0)
    assert (sample.answers, sample.errors, sample.total) == ([], {}, 0)
    assert pod_server.hits == {}


def test_to_json_is_serialisable(pod_server: PodServer) -> None:
    """to_json gives plain JSON with counts, errors and timing."""
    sample = sampling.sample_http(f"{pod_server.url}/rotate", 4)
    data = json.loads(json.dumps(sample.to_json()))
    assert data["counts"] == {"pod-a": 2, "pod-b": 2}
    assert data["total"] == 4
    assert data["finished_at"] >= data["started_at"]
    assert data["duration"] == pytest.approx(data["finished_at"] - data["started_at"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "127.0.0.1:80/hostname"}, "url"),
        ({"url": "ftp://host/x"}, "url"),
        ({"count": -1}, "count"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": 0.0}, "timeout"),
        ({"timeout": (1.0, -1.0)}, "timeout"),
        ({"deadline": 0.0}, "deadline"),
        ({"extractor": "xml"}, "extractor"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    """Invalid arguments raise ValueError naming the argument."""
    args: dict[str, object] = {"url": "http://127.0.0.1:9/x", "count": 1, **kwargs}
    with pytest.raises(ValueError, match=field):
        sampling.sample_http(**args)  # type: ignore[arg-type]


def _wrapped(reason: Exception) -> requests.ConnectionError:
    """A ConnectionError as requests raises it: around urllib3's MaxRetryError."""
    return requests.ConnectionError(MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


_CONN = HTTPConnection("127.0.0.1", 9)  # never connects: only named in exceptions


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_wrapped(NameResolutionError("h", _CONN, socket.gaierror())), "resolve"),
        (_wrapped(NewConnectionError(_CONN, "refused")), "connect"),
        (requests.ConnectTimeout(), "timeout"),
        (requests.ReadTimeout(), "timeout"),
        (requests.exceptions.ChunkedEncodingError(), "reset"),
        (requests.exceptions.InvalidHeader("x"), "other"),
    ],
)
def test_classify_exception(exc: Exception, kind: str) -> None:
    """Exceptions map to error kinds through their causes."""
    assert sampling.classify_exception(exc) == kind
