"""The real server under browser-like load (kepkreator.loadtest): many visitors without an error, and a soak of new
and returning visitors after which nothing has grown: files on disk, memory, the server's work per request."""
import io
import statistics
from pathlib import Path

import httpx
from PIL import Image

from kepkreator.loadtest import run_load, soak
from kepkreator.ui.files import gradio_cache
from tests.conftest import start_app


def test_fifty_browser_tabs_eight_requests_each_without_an_error(app_url, artifacts):
    result = run_load(app_url, clients=50, requests=8, timeout=900)
    (artifacts / "load-test.txt").write_text(repr(result) + "\n")
    print(f"\nload: {result['ok']} requests, p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
          f"{result['requests_per_second']:.1f} requests/s")
    assert result["errors"] == 0, result["first_errors"]
    assert result["ok"] == 400


def test_a_soak_leaves_files_memory_and_work_per_request_bounded(artifacts):
    proc, url = start_app()
    try:
        images = next(Path(gradio_cache()).glob(f"kepkreator-images-{proc.pid}-*"))
        # 640 requests: past the 512 drawings the app keeps, in 8 rounds of 80 to show a slope in memory and CPU
        result = soak(url, total=640, server_pid=proc.pid, files=images, clients=16, rounds=8)
        # After more requests than the app keeps images, a new visitor's page still opens on its drawings.
        config = httpx.get(url + "config", timeout=60).json()
        opening = [c["props"]["value"]["url"] for c in config["components"]
                   if c.get("type") == "image" and c["props"].get("value")]
        served = [httpx.get(address, timeout=60) for address in opening]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    (artifacts / "soak-test.txt").write_text(repr(result) + "\n")
    rounds = result["rounds"]
    assert result["errors"] == 0, [r["first_errors"] for r in rounds if r["errors"]]
    assert len(opening) == 4 and all(r.status_code == 200 and Image.open(io.BytesIO(r.content)).size for r in served)
    assert all(r["files"] <= 512 + 4 for r in rounds)  # the newest 512 drawings and the page's 4 opening ones
    assert rounds[-1]["resident_mib"] - rounds[1]["resident_mib"] <= 50
    # Work per request that grew with the server's age (a table rebuilt after every event) would show here. Medians
    # of rounds, not one round against another: single rounds spike (the 8th did in four runs here, up to 1.56x the 2nd,
    # and 18 rounds showed no growth after it), and the bound is loose because CPU time wobbles on a busy machine.
    cpu = [r["server_cpu_ms_per_request"] for r in rounds]
    assert statistics.median(cpu[len(cpu) // 2:]) <= 1.5 * statistics.median(cpu[1:4]), cpu
