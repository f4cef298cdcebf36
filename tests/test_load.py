"""Fifty concurrent clients on the real server, twenty requests each across the three tabs: no errors."""
from kepkreator.loadtest import run_load


def test_fifty_clients_twenty_requests_each_without_an_error(app_url, artifacts):
    result = run_load(app_url, clients=50, requests=20, timeout=900)
    (artifacts / "load-test.txt").write_text(repr(result) + "\n")
    print(f"\nload: {result['ok']} requests, p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
          f"{result['requests_per_second']:.1f} requests/s")
    assert result["errors"] == 0, result["first_errors"]
    assert result["ok"] == 1000
