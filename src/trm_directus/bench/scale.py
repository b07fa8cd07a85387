"""`bench scale`: the reads of `bench access` through HAProxy with 1 and with 2 Directus instances, same run.

One stack with two instances behind the balancer; for the 1-instance phase the second one is put in
HAProxy's maintenance (it keeps running, idle). A fixed number of client threads (keep-alive
connections) alternate the participant's entry read and the race director's 230-entry list for a
fixed time per phase; phases alternate (1, 2, 1, 2, …) so that a change in the machine's load hits
both. Reported per phase: requests/s, p50/p95, and CPU per process (each Directus, PostgreSQL,
HAProxy, Redis, the load client) as % of one core, with the load average.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from .. import console
from ..directus.api import Directus
from ..stacks.native import NativeStack
from . import access as bench_access

CONCURRENCY = 8
PHASE_SECONDS = 20.0
WARMUP_SECONDS = 4.0
READS = ("participant_entry", "director_entries")
PROCESSES = ("directus-1", "directus-2", "postgres", "haproxy", "redis", "client")

TARGETS: dict[str, tuple[float | None, str]] = {
    "scale_speedup": (1.5, f"requests/s with 2 instances / with 1, same run, {CONCURRENCY} clients (×, a minimum)"),
    "scale_p95_ratio": (1.0, "p95 with 2 instances / with 1 (×)"),
    **{
        f"scale_{n}_{m}": (None, f"{what}, {n} instance(s) behind HAProxy")
        for n in (1, 2)
        for m, what in (("rps_per_s", "requests/s"), ("p50_ms", "ms p50"), ("p95_ms", "ms p95"), ("errors", "non-200 answers"))
    },
    **{f"scale_{n}_cpu_{p}_pct": (None, f"CPU of {p}, % of one core, {n} instance(s)") for n in (1, 2) for p in PROCESSES},
    **{f"scale_{n}_cpu_total_pct": (None, f"CPU of those processes together, % of one core, {n} instance(s)") for n in (1, 2)},
    **{f"scale_{n}_cpu_ms_per_request": (None, f"CPU ms per request, all those processes, {n} instance(s)") for n in (1, 2)},
    "scale_load_average": (None, "1-minute load average of the machine during the measurement (mean of the phases)"),
}

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> dict[int, tuple[int, int, float]]:
    """pid -> (ppid, process group, CPU seconds so far) for every process we can read."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK)
    return found


def _cpu(stack: NativeStack) -> dict[str, float]:
    """CPU seconds so far of each process (group) the benchmark reports."""
    stats = _proc_stats()
    pids = stack.info.pids
    postmaster = int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    group = lambda pgid: sum(cpu for _, g, cpu in stats.values() if g == pgid)  # noqa: E731
    return {
        "directus-1": group(pids["directus-1"]),
        "directus-2": group(pids["directus-2"]),
        "postgres": sum(cpu for pid, (ppid, _, cpu) in stats.items() if postmaster in (pid, ppid)),
        "haproxy": group(pids["haproxy"]),
        "redis": group(pids["redis"]),
        "client": stats[os.getpid()][2],
    }


def _load(url: str, tokens: dict[str, str], requests: list[tuple[str, str]], seconds: float) -> tuple[list[float], int]:
    """CONCURRENCY threads, each on its own keep-alive connection, for `seconds`: latencies (s) and errors."""
    host = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        mine, bad = [], 0
        for i in range(offset, offset + 1_000_000):  # bounded by the deadline long before the count
            if time.monotonic() >= deadline:
                break
            role, path = requests[i % len(requests)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {tokens[role]}"})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            mine.append(time.perf_counter() - t0)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    return latencies, errors[0]


def _phase(stack: NativeStack, n: int, tokens: dict[str, str], requests: list[tuple[str, str]]) -> dict[str, Any]:
    """Put HAProxy at `n` serving instances, warm up, then measure."""
    balancer = stack.scale.balancer
    balancer.set_state("directus-2", "ready" if n == 2 else "maint")
    balancer.wait_state("directus-2", "UP" if n == 2 else "MAINT", timeout=30)
    _load(stack.url, tokens, requests, WARMUP_SECONDS)
    before, t0 = _cpu(stack), time.monotonic()
    latencies, errors = _load(stack.url, tokens, requests, PHASE_SECONDS)
    wall, after = time.monotonic() - t0, _cpu(stack)
    return {
        "latencies": latencies,
        "errors": errors,
        "wall": wall,
        "cpu": {p: after[p] - before[p] for p in PROCESSES},
        "load": os.getloadavg()[0],
    }


def bench(repeat: int = 3) -> dict[str, Any]:
    rounds = max(1, min(repeat, 3) - 1)  # 2 rounds of (1, 2) by default: 4 × (warm-up + 20 s)
    with NativeStack(instances=2) as stack:
        admin = Directus(stack.url, stack.info.admin_token)
        with console.step("scale bench setup (two clubs, 230 entries, a published stage ranking)"):
            w = bench_access.setup(admin, stack.info.dsn)
        reads = bench_access.reads(w)
        tokens = {role: bench_access.login(stack.url, email).token for role, email in bench_access.PEOPLE.items()}
        requests = [(reads[r][0], f"{reads[r][1]}?{_query(reads[r][2])}") for r in READS]
        phases: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        for r in range(rounds):
            for n in (1, 2):
                with console.step(f"round {r + 1}/{rounds}: {CONCURRENCY} clients, {n} instance(s), {PHASE_SECONDS:.0f} s"):
                    phases[n].append(_phase(stack, n, tokens, requests))
    return summarize(phases)


def _query(params: dict[str, Any]) -> str:
    return urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()})  # as Directus.get


def summarize(phases: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """The figures of each instance count over its rounds, and the CPU table printed as it is reported."""
    out: dict[str, Any] = {}
    for n, runs in phases.items():
        latencies = sorted(x for run in runs for x in run["latencies"])
        wall = sum(run["wall"] for run in runs)
        out[f"scale_{n}_rps_per_s"] = len(latencies) / wall
        out[f"scale_{n}_p50_ms"] = bench_access._p(latencies, 0.5)
        out[f"scale_{n}_p95_ms"] = bench_access._p(latencies, 0.95)
        out[f"scale_{n}_errors"] = sum(run["errors"] for run in runs)
        for p in PROCESSES:
            out[f"scale_{n}_cpu_{p}_pct"] = 100 * sum(run["cpu"][p] for run in runs) / wall
        out[f"scale_{n}_cpu_total_pct"] = sum(out[f"scale_{n}_cpu_{p}_pct"] for p in PROCESSES)
        out[f"scale_{n}_cpu_ms_per_request"] = 10 * out[f"scale_{n}_cpu_total_pct"] / out[f"scale_{n}_rps_per_s"]
    out["scale_speedup"] = out["scale_2_rps_per_s"] / out["scale_1_rps_per_s"]
    out["scale_p95_ratio"] = out["scale_2_p95_ms"] / out["scale_1_p95_ms"]
    out["scale_load_average"] = sum(run["load"] for runs in phases.values() for run in runs) / sum(map(len, phases.values()))
    names = (*PROCESSES, "total")
    console.out(f"{'instances':<10} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}  CPU % of one core: " + "  ".join(names))
    for n in phases:
        cpu = "  ".join(f"{out[f'scale_{n}_cpu_{p}_pct']:>{len(p)}.0f}" for p in names)
        console.out(
            f"{n:<10} {out[f'scale_{n}_rps_per_s']:>7.1f} {out[f'scale_{n}_p50_ms']:>7.0f} {out[f'scale_{n}_p95_ms']:>7.0f}"
            f"                     {cpu}   ({out[f'scale_{n}_cpu_ms_per_request']:.0f} ms CPU per request)"
        )
    console.out(f"load average {out['scale_load_average']:.1f} on {os.cpu_count()} cores (other processes take the rest)")
    return out
