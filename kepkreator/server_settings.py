"""The app server's command line and the bounds its parts check, in a module that loads neither torch nor Gradio:
`python app.py --help` and a wrong flag answer at once."""
from __future__ import annotations

import argparse
import os

from kepkreator.validation import number_flag

# flag -> (shipped weights, what they are)
APP_MODELS = {"cgan": ("cgan-mnist", "handwriting generator"), "gcn": ("gcn-qmnist", "QMNIST styles model"),
              "faces": ("gcn-yale", "face model"), "reader": ("judge-mnist", "digit judge that reads the drawing pad")}
TABS = {"cgan": "Handwriting tab", "gcn": "QMNIST styles tab", "faces": "Face blending tab",
        "reader": "Handwriting tab's drawing pad"}
PRECISIONS = ("float32", "bfloat16")
MAX_WORKERS = 16
DEFAULT_CONCURRENCY = 2
# Requests already run side by side; a pass that also splits across cores spends more CPU on its own threads than
# it saves (on 2 cores under browser-like load, 2 threads cost 10-15% more server CPU per request than 1: app
# runs in turns through bench.bench.app_run, see the commit that set this default).
DEFAULT_TORCH_THREADS = 1
# The drawing in processes of their own, so the handlers' Python does not wait for Gradio's and Gradio's not for
# theirs: on 2 cores, 2 workers served 1.21-1.22x the requests per second of drawing in the server's process under
# load (python -m bench.bench); two, so one stays free while the other writes a long export.
DEFAULT_WORKERS = 2


def get_args_parser() -> argparse.ArgumentParser:
    """Every flag of `python app.py`."""
    parser = argparse.ArgumentParser(
        prog="python app.py", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Run the KepKreator app: handwriting, QMNIST styles and face blending in the browser, on the "
                    "shipped weights (or others given below). It never trains and never downloads, unless a "
                    "--*-repo names a Hub repo that is not in the cache.")
    # A Space sets GRADIO_SERVER_NAME=0.0.0.0; anywhere else the app stays on loopback unless told.
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (GRADIO_SERVER_NAME; 127.0.0.1 is loopback only)")
    parser.add_argument("--port", type=number_flag(0, 65535, whole=True),
                        default=os.environ.get("GRADIO_SERVER_PORT", "7860"), help="port to listen on "
                                                                                   "(GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public Gradio link")
    for flag, (default, what) in APP_MODELS.items():
        env = f"KEPKREATOR_{flag.upper()}_REPO"
        parser.add_argument(f"--{flag}", default=default, help=f"{what}: shipped name or weights folder")
        parser.add_argument(f"--{flag}-repo", default=os.environ.get(env), metavar="OWNER/NAME",
                            help=f"Hub repo to use when --{flag} is not found locally (env {env})")
    one_to_64 = number_flag(1, 64, whole=True)
    parser.add_argument("--concurrency", type=one_to_64, default=DEFAULT_CONCURRENCY, metavar="N",
                        help="requests each endpoint works on at once (64 more wait in the queue)")
    parser.add_argument("--torch-threads", type=one_to_64, default=DEFAULT_TORCH_THREADS, metavar="N",
                        help="threads each forward pass may use")
    parser.add_argument("--share-passes", action="store_true",
                        help="merge concurrent requests' forward passes for the same model (kepkreator/batching.py); "
                             "at the default concurrency it cost throughput (python -m bench.bench), so it is off")
    parser.add_argument("--workers", type=number_flag(0, MAX_WORKERS, whole=True), default=DEFAULT_WORKERS, metavar="N",
                        help="processes the drawing runs in, forked from the server once the models are loaded "
                             "(0: in the server's own process)")
    parser.add_argument("--eager-models", action="store_true",
                        help="run the networks as Python modules instead of frozen TorchScript (slower under load; "
                             "for comparison)")
    parser.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                        help="what the networks compute in (auto: bfloat16 where the CPU has AMX, which draws about "
                             "as well and faster; float32 elsewhere)")
    parser.add_argument("--stored-results", action="store_true",
                        help="for benchmarks: every handler returns its first answer again, drawing nothing (the "
                             "ceiling the real app is measured against)")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """The app's settings from `argv`, checked; a wrong flag exits 2 with one line."""
    parser = get_args_parser()
    args = parser.parse_args(argv)
    if args.workers and args.share_passes:
        parser.error("--share-passes needs --workers 0: passes are shared by a thread of the server's own process")
    return args
