"""What one check found: pass, fail or skip, about one object in one context."""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["FAIL", "PASS", "SKIP", "Finding", "failures", "summary"]

Status = Literal["pass", "fail", "skip"]
PASS: Status = "pass"
FAIL: Status = "fail"
SKIP: Status = "skip"


@dataclass(frozen=True)
class Finding:
    """One answer of one check.

    `check` names the check (e.g. `node-locality`), `context` the kubeconfig
    context it looked at ("" for the mesh as a whole), `subject` the object
    (e.g. `node cluster1-node-1`), `message` what was seen and, on a failure,
    what was expected. A `skip` says why the check could not or need not run.
    """

    check: str
    context: str
    status: Status
    subject: str
    message: str

    def line(self) -> str:
        where = f" ({self.context})" if self.context else ""
        return f"{self.check}: {self.subject}{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def failures(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == FAIL]


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """How many findings of each status."""
    counts: dict[str, int] = {PASS: 0, FAIL: 0, SKIP: 0}
    for finding in findings:
        counts[finding.status] += 1
    return counts
