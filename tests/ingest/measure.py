"""Measuring a running process from outside: CPU and memory from /proc, Prometheus metrics.

Used by the ingest benchmark and by tests that check what each ingest process did.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- /proc ---------------------------------------------------------------------------------


def cpu_s(pid: int, tid: int | None = None) -> float:
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def threads_cpu_s(pid: int) -> dict[int, float]:
    return {int(t): cpu_s(pid, int(t)) for t in os.listdir(f"/proc/{pid}/task")}


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scrape(port: int) -> dict[str, float]:
    """Every sample of a Prometheus endpoint on this machine, by name with labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def histogram_buckets(
    samples: dict[str, float], name: str = "dampwatch_ingest_commit_lag_seconds"
) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of a histogram without labels, in bound order."""
    prefix = name + '_bucket{le="'
    buckets = []
    for sample, value in samples.items():
        if sample.startswith(prefix):
            bound = sample[len(prefix) : -2]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), value))
    return sorted(buckets)


def histogram_quantile(
    before: list[tuple[float, float]], after: list[tuple[float, float]], q: float
) -> float:
    """Quantile of the observations between two scrapes, interpolated within its bucket."""
    counts = [
        (bound, a - b)
        for (bound, a), (_, b) in zip(after, before or [(x, 0.0) for x, _ in after], strict=True)
    ]
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return float("nan")
    target = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound, cumulative in counts:
        if cumulative >= target:
            if bound == float("inf"):
                return previous_bound
            share = (target - previous_count) / max(1e-12, cumulative - previous_count)
            return previous_bound + share * (bound - previous_bound)
        previous_bound, previous_count = bound, cumulative
    return previous_bound
