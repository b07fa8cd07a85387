"""`bench scale`'s arithmetic: throughput, percentiles and CPU shares from the phases it measured."""

from trm_directus.bench.scale import PROCESSES, summarize


def phase(latencies: list[float], cpu: float, wall: float = 10.0, errors: int = 0) -> dict:
    return {"latencies": latencies, "errors": errors, "wall": wall, "cpu": dict.fromkeys(PROCESSES, cpu), "load": 2.0}


def test_rates_percentiles_and_cpu_are_taken_over_all_rounds_of_an_instance_count(capsys):
    out = summarize({1: [phase([0.1] * 90 + [0.5] * 10, 1.0)] * 2, 2: [phase([0.1] * 150, 1.5, errors=1)] * 2})
    assert out["scale_1_rps_per_s"] == 10 and out["scale_2_rps_per_s"] == 15 and out["scale_speedup"] == 1.5
    assert (out["scale_1_p50_ms"], out["scale_1_p95_ms"], out["scale_2_p95_ms"]) == (100, 500, 100)
    assert out["scale_p95_ratio"] == 0.2 and out["scale_2_errors"] == 2
    assert out["scale_1_cpu_postgres_pct"] == 10 and out["scale_1_cpu_total_pct"] == 10 * len(PROCESSES)
    assert out["scale_1_cpu_ms_per_request"] == 60  # 6 processes × 1 s CPU in 10 s, at 10 requests/s
    assert "load average 2.0" in capsys.readouterr().out
