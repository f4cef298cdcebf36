"""Benchmark: latency, throughput, concurrency, cold start, training speed and memory, on this machine.

    python -m kepkreator.bench                 # writes bench/results.json and bench/results.md

The app is started as a real server on a free loopback port; training speed
comes from short real runs of each training script in a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from kepkreator.attributes import AttributeModel
from kepkreator.cards import markdown_table
from kepkreator.handwriting import Handwriter
from kepkreator.loadtest import run_load
from kepkreator.validation import positive_int

ROOT = Path(__file__).resolve().parents[1]
# The app as shipped is measured against these settings (see `python app.py --help`).
APP_VARIANTS = [["--no-batching"], ["--concurrency", "8"]]
STRINGS = {1: "7", 12: "202611230712", 64: "3141592653 5897932384 6264338327 9502884197 1693993751 0582097494"}
# (row, shipped recipe, flags on top): the shipped recipes, and the face recipe at 128x128, which decided 64x64.
TRAINING = [("cgan (MNIST)", "cgan-mnist", []), ("judge (MNIST)", "judge-mnist", []),
            ("gcn (QMNIST styles)", "gcn-qmnist", []), ("gcn (Yale faces, 64x64)", "gcn-yale", []),
            ("gcn (Yale faces, 128x128)", "gcn-yale", ["--image-size", "128"])]


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def render_latency(runs: int) -> list[dict]:
    writer = Handwriter.from_pretrained()
    styles, faces = AttributeModel.from_pretrained("gcn-qmnist"), AttributeModel.from_pretrained("gcn-yale")
    style = styles.vector(digit="7", writer=styles.schema["writer"][0], colour="red", transform="identity")
    face = faces.vector(identity={faces.schema["identity"][0]: 0.5, faces.schema["identity"][1]: 0.5},
                        condition=faces.schema["condition"][0], transform="identity")
    cases = {f"handwriting, {n}-character string": (lambda t=text: writer(t)) for n, text in STRINGS.items()}
    cases["QMNIST styles, one digit"] = lambda: styles.generate(style)
    cases["face blending, one face"] = lambda: faces.generate(face)
    return [{"in-process render": name, **dict(zip(("p50 ms", "p95 ms"), (f"{v:.1f}" for v in timed(fn, runs))))}
            for name, fn in cases.items()]


def batch_throughput() -> list[dict]:
    from kepkreator.hub import load_model
    from kepkreator.models.cgan import Generator

    generator = load_model(Generator, "cgan-mnist")
    styles, faces = AttributeModel.from_pretrained("gcn-qmnist"), AttributeModel.from_pretrained("gcn-yale")
    z, labels = torch.randn(256, generator.latent_dim), torch.arange(256) % 10
    cases = {"cgan digits": lambda: generator(z, labels),
             "gcn QMNIST styles": lambda: styles.generate(torch.rand(256, styles.generator.input_dim)),
             "gcn faces 64x64": lambda: faces.generate(torch.rand(256, faces.generator.input_dim))}
    rows = []
    with torch.no_grad():
        for name, fn in cases.items():
            p50, _ = timed(fn, 5)
            rows.append({"batch of 256": name, "images/s": f"{256 / (p50 / 1000):,.0f}"})
    return rows


def shared_passes(callers: list[int], requests: int) -> list[dict]:
    """In-process requests/s with N threads each drawing, every forward pass alone versus shared (batching.py)."""
    rows = []
    for batch in (False, True):
        writer = Handwriter.from_pretrained(batch_requests=batch)
        styles = AttributeModel.from_pretrained("gcn-qmnist", batch_requests=batch)
        faces = AttributeModel.from_pretrained("gcn-yale", batch_requests=batch)
        style = styles.vector(digit="7", writer=styles.schema["writer"][0], colour="red", transform="identity")
        face = faces.vector(identity=faces.schema["identity"][0], condition=faces.schema["condition"][0],
                            transform="identity")
        cases = {"handwriting, 12 characters": lambda: writer(STRINGS[12]),
                 "QMNIST styles, digit + read-back": lambda: styles.read(styles.generate(style)),
                 "face blending, one face": lambda: faces.generate(face)}
        for name, fn in cases.items():
            row = {"concurrent callers, in-process": name, "passes": "shared" if batch else "one per request"}
            for n in callers:
                fn()
                started = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    list(pool.map(lambda _: fn(), range(n * requests)))
                row[f"{n} callers, requests/s"] = f"{n * requests / (time.perf_counter() - started):,.0f}"
            rows.append(row)
    return sorted(rows, key=lambda row: row["concurrent callers, in-process"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_run(clients: list[int], requests: int, flags: list[str]) -> tuple[list[dict], float, int]:
    """One app started with `flags`: the load results for each number of clients, its cold start (s) and peak
    memory (MiB)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *flags], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from gradio_client import Client

        cold = None
        while cold is None and time.perf_counter() - started < 300:
            try:
                Client(url, verbose=False).predict("1", 0, 0.15, 0.5, "#000000", "#ffffff", False, 0, 1,
                                                   api_name="/handwrite")
                cold = time.perf_counter() - started
            except Exception:  # not listening yet
                time.sleep(0.2)
        results = [run_load(url, clients=n, requests=requests) for n in clients]
        peak = int(Path(f"/proc/{proc.pid}/status").read_text().split("VmHWM:")[1].split()[0]) // 1024
        return results, cold, peak
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def median_and_range(values: list[float], digits: int) -> str:
    middle = f"{statistics.median(values):.{digits}f}"
    return middle if len(values) == 1 else f"{middle} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def app_measures(rounds: int, requests: int) -> tuple[list[dict], dict]:
    """The app's settings compared under load. One run per setting says little on a shared machine, so the
    settings take turns for `rounds` rounds (drift then touches them all alike); each figure is the median
    over the rounds, with the lowest and highest in brackets."""
    settings = [([], [1, 10, 50])] + [(flags, [10, 50]) for flags in APP_VARIANTS]
    runs: dict[tuple[str, int], list[dict]] = {}
    colds, peaks = [], []
    for _ in range(rounds):
        for flags, clients in settings:
            results, cold, peak = app_run(clients, requests, flags)
            for n, result in zip(clients, results):
                runs.setdefault((" ".join(flags) or "defaults", n), []).append(result)
            if not flags:
                colds.append(cold)
                peaks.append(peak)
    rows = [{"app": name, "concurrent clients": n, "rounds": len(results),
             "requests": sum(r["requests"] for r in results), "errors": sum(r["errors"] for r in results),
             "p50 ms": median_and_range([r["p50_ms"] for r in results], 0),
             "p95 ms": median_and_range([r["p95_ms"] for r in results], 0),
             "requests/s": median_and_range([r["requests_per_second"] for r in results], 1)}
            for (name, n), results in runs.items()]
    return rows, {"cold start, process start to first image (s)": median_and_range(colds, 1),
                  "app peak memory (MiB)": max(peaks)}


def training_throughput(steps: int) -> list[dict]:
    """Samples/s of a short run of each recipe, and the minutes the recipe's own steps would take at that speed."""
    from train.recipes import RECIPES

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, recipe, extra) in enumerate(TRAINING):
            out = Path(tmp) / f"run-{i}"
            script = RECIPES[recipe].script
            schedule = ["--cooldown", "0"] if "cooldown" in RECIPES[recipe].settings else []
            subprocess.run([sys.executable, "-m", script, "--recipe", recipe, *extra, "--steps", str(steps), *schedule,
                            "--checkpoint-every", str(steps), "--sample-every", str(steps), "--output-dir", str(out)],
                           cwd=ROOT, check=True, capture_output=True)
            record = json.loads((out / "training.json").read_text())
            full = RECIPES[recipe].defaults().get("steps")
            minutes = f"{full * record['training_seconds'] / steps / 60:.0f}" if full else "-"
            rows.append({"training": name, "recipe": f"`{recipe}` {' '.join(extra)}".strip(), "steps": steps,
                         "samples/s": record["samples_per_second"], "minutes for the recipe's steps": minutes})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--runs", type=positive_int, default=50, help="repetitions per latency figure")
    parser.add_argument("--requests", type=positive_int, default=10,
                        help="requests per client in the concurrency runs")
    parser.add_argument("--rounds", type=positive_int, default=3,
                        help="rounds of the app comparison, the settings taking turns")
    parser.add_argument("--train-steps", type=positive_int, default=40)
    args = parser.parse_args(argv)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    sections = {"render": render_latency(args.runs), "batch": batch_throughput()}
    sections["passes"] = shared_passes([1, 8, 32], args.runs)
    sections["app"], extra = app_measures(args.rounds, args.requests)
    sections["training"] = training_throughput(args.train_steps)
    extra["benchmark process peak memory (MiB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    sections["process"] = [{"measure": k, "value": v} for k, v in extra.items()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"machine": machine, **sections}, indent=2) + "\n")
    markdown = (f"Machine: {machine}. The app's settings took turns for {args.rounds} round(s) of load; each of "
                "their figures is the median over the rounds, the lowest and highest in brackets.\n\n"
                + "\n\n".join(markdown_table(rows) for rows in sections.values()) + "\n")
    (args.out / "results.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
