"""The benchmark's own pieces: its summary of repeated rounds and its flags (the full run takes minutes and
lives in bench/, made by `python -m bench.bench`)."""
import pytest

from bench.bench import main as bench_main
from bench.bench import median_and_range


def test_rounds_are_summarised_by_their_median_and_range():
    assert median_and_range([19.8, 13.4, 16.6], 1) == "16.6 (13.4-19.8)"
    assert median_and_range([5.31], 1) == "5.3"  # one round: no range to give


@pytest.mark.parametrize("flag", ["--runs", "--requests", "--rounds", "--train-steps"])
def test_a_count_below_one_is_refused_before_any_work(flag, capsys):
    with pytest.raises(SystemExit) as stop:
        bench_main([flag, "0"])
    assert stop.value.code == 2
    assert f"argument {flag}: must be a whole number of at least 1, got 0" in capsys.readouterr().err


def test_the_shipped_results_have_no_unfilled_placeholders_and_measure_both_servers():
    from pathlib import Path
    results = (Path(__file__).resolve().parents[1] / "bench" / "results.md").read_text()
    assert "{" not in results and "}" not in results
    assert "| app | 50 |" in results and "| ceiling | 50 |" in results


def test_each_endpoints_own_work_is_measured_with_the_load_tests_arguments():
    from bench.bench import handler_cpu
    rows = handler_cpu(2)
    names = [row["endpoint's own work, in-process, 1 torch thread"] for row in rows]
    assert names == ["/handwrite", "/style_digit", "/face", "the load's mix (mean)"]
    columns = [key for key in rows[0] if key.startswith("CPU ms/request")]
    assert len(columns) == 2 and columns[1] == "CPU ms/request, frozen, float32"
    for column in columns:
        costs = [float(row[column]) for row in rows]
        assert all(cost > 0 for cost in costs) and min(costs[:3]) <= costs[3] <= max(costs[:3])
