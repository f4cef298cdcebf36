"""Benchmark: latency, throughput, concurrency, cold start, training speed and memory, on this machine.

    python -m bench.bench                 # writes bench/results.json and bench/results.md
    python -m bench.bench --only hands    # measures one section again, keeping the others' last figures

The app is started as a real server on a free loopback port; training speed
comes from short real runs of each training script in a temporary folder.
"""
from __future__ import annotations

import argparse
import io
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

import httpx
import torch

from kepkreator.attributes import AttributeModel
from kepkreator.batching import fastest_precision
from kepkreator.cards import markdown_table
from kepkreator.handwriting import Handwriter
from kepkreator.loadtest import resident_mib, run_load
from kepkreator.validation import HelpWithDefaults, positive_int

ROOT = Path(__file__).resolve().parents[1]
# The app as shipped, its ceiling (the same page with every handler returning a stored result in the server's
# process), and the app drawing in the server's process instead of render workers, with its networks run as Python
# modules instead of frozen TorchScript, computing in float32 whatever the CPU, and with concurrent requests' passes
# shared.
APPS = {"app": [], "ceiling": ["--stored-results", "--workers", "0"], "app, drawing in-process": ["--workers", "0"],
        "app, Python modules": ["--eager-models"], "app, float32": ["--precision", "float32"],
        "app, shared passes": ["--share-passes", "--workers", "0"]}
# How the app runs its networks on this machine (app.py: frozen, in the fastest precision the CPU has).
SERVED = {"freeze": True, "precision": fastest_precision()}
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


def shipped_models(**settings) -> tuple[Handwriter, AttributeModel, AttributeModel]:
    """The app's three models (handwriting, QMNIST styles, faces), loaded with the same `from_pretrained` settings."""
    return (Handwriter.from_pretrained(**settings), AttributeModel.from_pretrained("gcn-qmnist", **settings),
            AttributeModel.from_pretrained("gcn-yale", **settings))


def render_latency(runs: int) -> list[dict]:
    """In-process render times, with the networks as the app serves them, frozen in float32, and as Python modules."""
    rows: dict[str, dict] = {}
    settings = {f"as served ({SERVED['precision']})": SERVED, "frozen, float32": {"freeze": True},
                "Python modules, float32": {}}
    for label, setting in settings.items():
        writer, styles, faces = shipped_models(**setting)
        style = styles.vector(digit="7", writer=styles.schema["writer"][0], colour="red", transform="identity")
        face = faces.vector(identity={faces.schema["identity"][0]: 0.5, faces.schema["identity"][1]: 0.5},
                            condition=faces.schema["condition"][0], transform="identity")
        cases = {f"handwriting, {n}-character string": (lambda t=text: writer(t)) for n, text in STRINGS.items()}
        cases["QMNIST styles, one digit"] = lambda: styles.generate(style)
        cases["face blending, one face"] = lambda: faces.generate(face)
        columns = (f"p50 ms, {label}", f"p95 ms, {label}")
        for name, fn in cases.items():
            rows.setdefault(name, {"in-process render": name}).update(
                zip(columns, (f"{v:.1f}" for v in timed(fn, runs))))
    return list(rows.values())


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
        writer, styles, faces = shipped_models(batch_requests=batch, **SERVED)
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


def handler_cpu(runs: int) -> list[dict]:
    """CPU per request of each endpoint's own work (draw, read back, encode and write the image) in this process, on
    one torch thread as the app runs, with the arguments the load test sends: the part of the server's CPU per
    request that no server setting removes. With the networks as served, and frozen in float32."""
    from kepkreator.loadtest import ENDPOINTS, request_data
    from kepkreator.ui import faces_tab, handwriting_tab, styles_tab

    columns = {f"CPU ms/request, as served ({SERVED['precision']})": SERVED,
               "CPU ms/request, frozen, float32": {"freeze": True}}
    costs: dict[str, dict[str, float]] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for column, setting in columns.items():
            writer, styles, faces = shipped_models(**setting)
            # The load test takes each dropdown's first choice from the page, i.e. the schema's first value.
            choices = {"writer": styles.schema["writer"][0], "identity": faces.schema["identity"][0],
                       "condition": faces.schema["condition"][0]}
            handlers = {"handwrite": lambda *data: handwriting_tab.handwrite(writer, *data),
                        "style_digit": lambda *data: styles_tab.style_digit(styles, *data),
                        "face": lambda *data: faces_tab.face(faces, *data)}
            for endpoint in ENDPOINTS:
                handlers[endpoint](*request_data(endpoint, choices, 0))
                started = time.process_time()
                for n in range(runs):
                    handlers[endpoint](*request_data(endpoint, choices, n))
                costs.setdefault(f"/{endpoint}", {})[column] = 1000 * (time.process_time() - started) / runs
    finally:
        torch.set_num_threads(threads)
    costs["the load's mix (mean)"] = {column: statistics.mean(c[column] for c in costs.values()) for column in columns}
    return [{"endpoint's own work, in-process, 1 torch thread": name, **{k: f"{v:.1f}" for k, v in row.items()}}
            for name, row in costs.items()]


def own_hand_latency(runs: int) -> list[dict]:
    """The drawing pad's request, in-process as a render worker runs it: a drawn digit (a held-out writer's, as the
    pad sends it: dark on white, 224x224 PNG) read by the judge and its hand found (`handwriting_tab.find_hand`),
    beside the tab's usual request (a 12-character string) timed in the same run."""
    import base64

    from PIL import Image

    from kepkreator.evaluation.handwriting_metrics import writer_split
    from kepkreator.loadtest import request_data
    from kepkreator.ui import handwriting_tab

    _, held_out = writer_split(None)
    pads = []
    for digit in held_out.images[:runs]:
        buffer = io.BytesIO()
        Image.fromarray(255 - digit.numpy()).resize((224, 224), Image.BILINEAR).save(buffer, format="PNG")
        pads.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    writer = Handwriter.from_pretrained(**SERVED)
    threads = torch.get_num_threads()
    rows = []
    try:
        for count in (1, threads):
            torch.set_num_threads(count)
            find = iter(pads * 2)
            hand = timed(lambda: handwriting_tab.find_hand(writer, next(find), ""), runs - 1)
            write = timed(lambda: handwriting_tab.handwrite(writer, *request_data("handwrite", {}, 0)), runs - 1)
            rows.append({"request, in-process": f"finding a hand from a drawn digit, {count} torch thread(s)",
                         "p50 ms": f"{hand[0]:.0f}", "p95 ms": f"{hand[1]:.0f}",
                         "p95 in 12-character drawings": f"{hand[1] / write[1]:.0f}"})
    finally:
        torch.set_num_threads(threads)
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_run(clients: list[int], requests: int, flags: list[str]) -> tuple[list[dict], float, int]:
    """One app started with `flags`: the browser-like load results for each number of clients (with the server's
    CPU per request), its cold start (s) and peak memory (MiB)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *flags], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cold = None
        while cold is None and time.perf_counter() - started < 300:
            try:  # the first drawing a visitor gets, through the same protocol as the load
                if run_load(url, clients=1, requests=1, request_timeout=60)["ok"] == 1:
                    cold = time.perf_counter() - started
            except (OSError, httpx.HTTPError, RuntimeError, KeyError, ValueError):  # not listening yet
                time.sleep(0.2)
        results = [run_load(url, clients=n, requests=requests, server_pid=proc.pid) for n in clients]
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak, now = (int(status.split(f"{field}:")[1].split()[0]) / 1024 for field in ("VmHWM", "VmRSS"))
        workers_own = resident_mib(proc.pid) - now  # what its render workers hold of their own, at the end
        return results, cold, round(peak + workers_own)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def median_and_range(values: list[float], digits: int) -> str:
    middle = f"{statistics.median(values):.{digits}f}"
    return middle if len(values) == 1 else f"{middle} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def app_measures(rounds: int, requests: int, clients: list[int]) -> tuple[list[dict], list[dict], dict]:
    """The app beside its ceiling (the same page with every handler returning a stored result) and beside itself
    drawing in the server's process, with its networks as Python modules and with shared passes, under the same
    browser-like load. One run per
    setting says little on a shared machine, so they take turns for `rounds` rounds (drift then touches all alike);
    each figure is the median over the rounds, lowest and highest in brackets, and each ratio the median of the
    rounds' ratios."""
    runs: dict[tuple[str, int], list[dict]] = {}
    colds, peaks = [], []
    for _ in range(rounds):
        for name, flags in APPS.items():
            results, cold, peak = app_run(clients, requests, flags)
            for n, result in zip(clients, results):
                runs.setdefault((name, n), []).append(result)
            if name == "app":
                colds.append(cold)
                peaks.append(peak)
    rows = [{"server": name, "browser-like clients": n, "rounds": len(results),
             "requests": sum(r["requests"] for r in results), "errors": sum(r["errors"] for r in results),
             "p50 ms": median_and_range([r["p50_ms"] for r in results], 0),
             "p95 ms": median_and_range([r["p95_ms"] for r in results], 0),
             "requests/s": median_and_range([r["requests_per_second"] for r in results], 1),
             "server CPU ms/request": median_and_range([r["server_cpu_ms_per_request"] for r in results], 1),
             "load generator CPU ms/request": median_and_range([r["client_cpu_ms_per_request"] for r in results], 1)}
            for (name, n), results in runs.items()]
    def ratio(n: int, peer: str, measure: str) -> str:
        """The app's `measure` over `peer`'s, round by round."""
        return median_and_range([a[measure] / b[measure] for a, b in zip(runs[("app", n)], runs[(peer, n)])], 2)

    throughput, cpu = "requests_per_second", "server_cpu_ms_per_request"
    ratios = [{"browser-like clients": n,
               "throughput, app / ceiling": ratio(n, "ceiling", throughput),
               "server CPU per request, app / ceiling": ratio(n, "ceiling", cpu),
               "throughput, app / app drawing in-process": ratio(n, "app, drawing in-process", throughput),
               "throughput, app / app with Python modules": ratio(n, "app, Python modules", throughput),
               "server CPU per request, app / app in float32": ratio(n, "app, float32", cpu)}
              for n in clients]
    return rows, ratios, {"cold start, process start to first image (s)": median_and_range(colds, 1),
                          "app peak memory, with its workers' own pages (MiB)": median_and_range(peaks, 0)}


def image_writing(runs: int) -> list[dict]:
    """The face tab's image (a generated face enlarged to 256x256) written as each format the app can send, in
    memory: why faces go out as JPEG (`kepkreator.ui.files.WRITERS`)."""
    from kepkreator.imaging import to_pil
    from kepkreator.ui.files import WRITERS

    faces = AttributeModel.from_pretrained("gcn-yale")
    face = faces.generate(faces.vector(identity=faces.schema["identity"][0], condition=faces.schema["condition"][0],
                                       transform="identity"))[0]
    shown = to_pil(face, scale=256 // face.shape[-1], smooth=True)
    return [{"writing a face (256x256)": f"{options['format']} (.{suffix})", **written(shown, options, runs)}
            for suffix, options in WRITERS.values()]


def written(image, options: dict, runs: int) -> dict:
    """p50 and p95 ms of writing `image` in memory as PIL's `options` say, and the KiB it takes."""
    p50, p95 = timed(lambda: image.save(io.BytesIO(), **options), runs)
    size = io.BytesIO()
    image.save(size, **options)
    return {"p50 ms": f"{p50:.2f}", "p95 ms": f"{p95:.2f}", "KiB": f"{len(size.getvalue()) / 1024:.0f}"}


def drawing_writing(runs: int) -> list[dict]:
    """The handwriting tab's 12-character drawing at its default scale written as PNG from RGB pixels and from the
    palette of one ink on paper, in memory: why the tab asks `Handwriter` for a palette image."""
    from kepkreator.ui.files import WRITERS

    writer = Handwriter.from_pretrained()
    _, options = WRITERS[False]
    rows = []
    for name, palette in (("RGB", False), ("palette (as served)", True)):
        drawn = writer(STRINGS[12], seed=7, scale=3, palette=palette)
        rows.append({f"writing a {len(STRINGS[12])}-character drawing ({drawn.width}x{drawn.height})": f"PNG, {name}",
                     **written(drawn, options, runs)})
    return rows


MEMORY_STAGES = """
import json
def rss():
    # resident MiB: all, anonymous (heap, arenas) and file-backed (shared libraries' pages read in)
    status = open("/proc/self/status").read()
    return [int(status.split(f"{field}:")[1].split()[0]) // 1024 for field in ("VmRSS", "RssAnon", "RssFile")]
stages = [("Python", rss())]
import torch
stages.append(("+ torch", rss()))
import gradio
stages.append(("+ gradio", rss()))
from kepkreator.attributes import AttributeModel
from kepkreator.handwriting import Handwriter
def shipped_models(**settings):  # as bench.bench's, without importing the benchmark's own modules here
    return [Handwriter.from_pretrained(**settings), AttributeModel.from_pretrained("gcn-qmnist", **settings),
            AttributeModel.from_pretrained("gcn-yale", **settings)]
models = shipped_models()
stages.append(("+ the three models", rss()))
from kepkreator.batching import fastest_precision
models = shipped_models(freeze=True, precision=fastest_precision())
stages.append(("+ the same models frozen, as the app serves them (TorchScript)", rss()))
import app
demo = app.build_app(*models)
stages.append(("+ the page (three tabs, each opening on a drawing)", rss()))
import os
from kepkreator.loadtest import resident_mib
from kepkreator.ui.workers import render_workers
render_workers.start(app.DEFAULT_WORKERS)
total, anonymous, files = rss()
workers_own = round(resident_mib(os.getpid())) - total
stages.append((f"+ {app.DEFAULT_WORKERS} render workers (the pages they hold of their own)",
               [total + workers_own, anonymous + workers_own, files]))
render_workers.stop()
print(json.dumps(stages))
"""


def memory_stages() -> list[dict]:
    """Resident memory after each stage of an app's start, in a fresh process: where the idle server's memory goes."""
    out = subprocess.run([sys.executable, "-c", MEMORY_STAGES], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    stages = json.loads(out.strip().splitlines()[-1])
    rows = []
    for i, (name, (total, anonymous, files)) in enumerate(stages):
        before = stages[i - 1][1] if i else [0, 0, 0]
        rows.append({"stage": name, "resident MiB": total, "added MiB": total - before[0],
                     "of which anonymous": anonymous - before[1],
                     "of which shared libraries and files": files - before[2]})
    return rows


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


def cpu_model() -> str:
    """The processor's name (machines differ between sessions; Linux names it in /proc/cpuinfo)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "processor unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "processor unknown")


def served_precision(previous: dict) -> str:
    """What the app computed in when `previous` (a results.json) was measured; this run's when there is none.
    (Files from before the key was kept say it in their render columns.)"""
    if not previous:
        return SERVED["precision"]
    return previous.get("precision") or ("bfloat16" if "bfloat16" in json.dumps(previous["render"][0]) else "float32")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="folder for results.json and results.md")
    parser.add_argument("--runs", type=positive_int, default=50, help="repetitions per latency figure")
    parser.add_argument("--requests", type=positive_int, default=10,
                        help="requests per client in the concurrency runs")
    parser.add_argument("--rounds", type=positive_int, default=3,
                        help="rounds of the app comparison, the settings taking turns")
    parser.add_argument("--train-steps", type=positive_int, default=40, help="steps of each recipe timed")
    parser.add_argument("--only", nargs="+", default=[], metavar="SECTION",
                        help="measure these sections again and keep the others' figures from --out's results.json")
    args = parser.parse_args(argv)
    machine = (f"{platform.machine()} ({cpu_model()}), {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    measures = {"render": lambda: render_latency(args.runs), "batch": batch_throughput,
                "passes": lambda: shared_passes([1, 8, 32], args.runs),
                "handlers": lambda: handler_cpu(4 * args.runs), "hands": lambda: own_hand_latency(args.runs),
                "writing": lambda: image_writing(4 * args.runs), "drawing": lambda: drawing_writing(4 * args.runs),
                "app": lambda: app_measures(args.rounds, args.requests, [1, 10, 50]),
                "training": lambda: training_throughput(args.train_steps), "memory": memory_stages}
    unknown = sorted(set(args.only) - set(measures))
    if unknown:
        parser.error(f"--only: no section {', '.join(unknown)}; the sections are {', '.join(measures)}")
    previous = json.loads((args.out / "results.json").read_text()) if args.only else {}
    sections = {}
    for name, measure in measures.items():
        if args.only and name not in args.only:
            sections.update({key: value for key, value in previous.items()
                             if key == name or (name == "app" and key in ("ceiling", "process"))})
        elif name == "app":
            sections["app"], sections["ceiling"], extra = measure()
            extra["benchmark process peak memory (MiB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            sections["process"] = [{"measure": k, "value": v} for k, v in extra.items()]
        else:
            sections[name] = measure()
    sections["process"] = sections.pop("process")
    first = {"machine": previous.get("machine", machine), "precision": served_precision(previous)}
    later = previous.get("measured again", [])
    if args.only:  # a section measured again is no longer from the run that measured it before
        later = [{**run, "sections": [name for name in run["sections"] if name not in args.only]} for run in later]
        later = [*(run for run in later if run["sections"]),
                 {"sections": args.only, "machine": machine, "precision": SERVED["precision"]}]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({**first, "measured again": later, **sections}, indent=2)
                                           + "\n")
    again = "".join(f" Measured again later (`python -m bench.bench --only {' '.join(run['sections'])}`) on "
                    f"{run['machine']}, as served in {run['precision']}." for run in later)
    markdown = (f"Machine: {first['machine']}. The app, its ceiling (`python app.py --stored-results --workers 0`: the "
                "same page, every handler returning a stored drawing in the server's process), the app drawing in the "
                "server's process instead of render workers (`--workers 0`), with its networks as Python modules "
                "(`--eager-models`), computing in float32 (`--precision float32`; the app computes in "
                f"{first['precision']} on this machine) and with shared passes (`--share-passes --workers 0`) took "
                "turns for "
                f"{args.rounds} round(s) of browser-like load "
                "(`kepkreator.loadtest`: per client one kept-open connection and one session, Gradio's queue "
                "protocol, the image downloaded); each figure is the median over the rounds, the lowest and "
                f"highest in brackets.{again}\n\n"
                + "\n\n".join(markdown_table(rows) for rows in sections.values()) + "\n")
    (args.out / "results.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
