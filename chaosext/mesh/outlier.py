"""Envoy's consecutive-error outlier detection for one cluster of one proxy.

From [E] `source/common/upstream/outlier_detection_impl.cc`:
- counting (`putHttpResponseCode`): a 5xx increments the 5xx counter; 502/503/504 also
  the gateway counter (another 5xx resets it); anything else resets both. A counter
  firing (== threshold) tries to eject (`onConsecutiveErrorWorker`): skipped if the
  host is already ejected, otherwise `ejectHost` runs and that counter is reset, ejected
  or not. A connect failure is reported as 503 (`resultToHttpCode`) unless
  splitExternalLocalOriginErrors is set, where it counts as a local-origin failure.
- `ejectHost`: only if 100 x (ejected + 1) / N <= maxEjectionPercent, N = every host
  of the cluster in every priority (Envoy >= 1.28, `check_mep_on_first_eject`; Istio
  never sets always_eject_one_host). On ejection the backoff k grows by 1 while
  k x base < max + base.
- interval ticks (`onIntervalTimer` -> `checkHostForUneject`): an ejected host returns
  when min(base x k, max) <= tick - ejected_at (its counters reset); a host not ejected
  at a tick has k decremented. Ejection ends only on ticks.
- hosts that leave EDS lose their monitor; a re-added host starts fresh.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil, floor

from chaosext.mesh.types import Outlier

_EPS = 1e-9
GATEWAY_ERRORS = frozenset({502, 503, 504})


@dataclass
class HostMonitor:
    """Outlier state of one host."""

    consecutive_5xx: int = 0
    consecutive_gateway: int = 0
    consecutive_local: int = 0
    ejected: bool = False
    ejected_at: float = 0.0
    backoff: int = 0
    ejections: int = 0


class OutlierDetector:
    """Per-host counters, ejections and the interval timer of one Envoy cluster.

    Time is whatever clock the caller uses (seconds). The interval timer starts at the
    first time the detector sees (`start`), as Envoy arms it at cluster creation.
    """

    def __init__(self, settings: Outlier) -> None:
        self.settings = settings
        self.hosts: dict[str, HostMonitor] = {}
        self._anchor: float | None = None
        self._next_tick = 1

    def start(self, now: float) -> None:
        """Arm the interval timer at `now` unless already armed."""
        if self._anchor is None:
            self._anchor = now

    def set_hosts(self, names: Iterable[str]) -> None:
        """New EDS membership: keep monitors of staying hosts, fresh ones for new."""
        wanted = list(names)
        self.hosts = {name: self.hosts.get(name) or HostMonitor() for name in wanted}

    def ejected(self) -> frozenset[str]:
        """Names of the hosts currently ejected."""
        return frozenset(name for name, m in self.hosts.items() if m.ejected)

    def duration(self, monitor: HostMonitor) -> float:
        """How long the current ejection lasts: min(base x k, max)."""
        s = self.settings
        return min(s.base_ejection_time * monitor.backoff, s.max_ejection_time)

    def _tick_time(self, index: int) -> float:
        assert self._anchor is not None
        return self._anchor + index * self.settings.interval

    def advance(self, now: float) -> bool:
        """Run every interval tick up to `now`. True if the ejected set changed."""
        self.start(now)
        assert self._anchor is not None
        interval = self.settings.interval
        last = floor((now - self._anchor) / interval + _EPS)
        changed = False
        while self._next_tick <= last:
            monitors = self.hosts.values()
            if not any(m.ejected or m.backoff for m in monitors):
                self._next_tick = last + 1
                break
            if not any(m.backoff and not m.ejected for m in monitors):
                due = min(
                    m.ejected_at + self.duration(m) for m in monitors if m.ejected
                )
                index = ceil((due - self._anchor - _EPS) / interval)
                self._next_tick = max(self._next_tick, min(index, last + 1))
                if self._next_tick > last:
                    break
            changed |= self._tick(self._tick_time(self._next_tick))
            self._next_tick += 1
        return changed

    def _tick(self, at: float) -> bool:
        changed = False
        for monitor in self.hosts.values():
            if not monitor.ejected:
                monitor.backoff = max(0, monitor.backoff - 1)
            elif self.duration(monitor) <= at - monitor.ejected_at + _EPS:
                monitor.ejected = False
                monitor.consecutive_5xx = 0
                monitor.consecutive_gateway = 0
                changed = True
        return changed

    def record(self, name: str, status: int | None, now: float) -> bool:
        """Count one result for `name` (None = connect failure). True if ejected."""
        monitor = self.hosts.get(name)
        if monitor is None:
            return False
        s = self.settings
        if status is None and s.split_local_origin:
            monitor.consecutive_local += 1
            if monitor.consecutive_local == s.consecutive_local_origin:
                ejected = self._try_eject(monitor, now)
                monitor.consecutive_local = 0
                return ejected
            return False
        if s.split_local_origin:
            monitor.consecutive_local = 0
        code = 503 if status is None else status
        if not 500 <= code <= 599:
            monitor.consecutive_5xx = 0
            monitor.consecutive_gateway = 0
            return False
        ejected = False
        if code in GATEWAY_ERRORS:
            monitor.consecutive_gateway += 1
            if (
                monitor.consecutive_gateway == s.consecutive_gateway
                and not monitor.ejected
            ):
                ejected = self._try_eject(monitor, now)
                monitor.consecutive_gateway = 0
        else:
            monitor.consecutive_gateway = 0
        monitor.consecutive_5xx += 1
        if monitor.consecutive_5xx == s.consecutive_5xx and not monitor.ejected:
            ejected |= self._try_eject(monitor, now)
            monitor.consecutive_5xx = 0
        return ejected

    def _try_eject(self, monitor: HostMonitor, now: float) -> bool:
        s = self.settings
        active = sum(1 for m in self.hosts.values() if m.ejected)
        if 100.0 * (active + 1) / len(self.hosts) > s.max_ejection_percent + _EPS:
            return False
        monitor.ejected = True
        monitor.ejected_at = now
        monitor.ejections += 1
        base = s.base_ejection_time
        if monitor.backoff * base < s.max_ejection_time + base:
            monitor.backoff += 1
        return True
