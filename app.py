"""KepKreator: conditional image generation in the browser.

    python app.py                      # http://127.0.0.1:7860, on the shipped weights
    python app.py --host 0.0.0.0 --port 8080
    python app.py --share              # a temporary public link through Gradio

The app never trains and never downloads: it loads the weights once at start
and draws on request. Each tab lives in kepkreator/ui/.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

import gradio as gr
import torch
from starlette.middleware import Middleware

from kepkreator.attributes import AttributeModel
from kepkreator.batching import PRECISIONS, fastest_precision
from kepkreator.handwriting import Handwriter
from kepkreator.hub import APP_MODELS, WeightsError
from kepkreator.ui import faces_tab, handwriting_tab, styles_tab
from kepkreator.ui.wiring import Serving
from kepkreator.ui.files import sweep_leftovers
from kepkreator.ui.guard import ApiGuard, endpoint_arity
from kepkreator.ui.workers import MAX_WORKERS, render_workers
from kepkreator.validation import number_flag

DEFAULT_CONCURRENCY = 2
# Requests already run side by side; a pass that also splits across cores spends more CPU on its own threads than
# it saves (on 2 cores under browser-like load, 2 threads cost 10-15% more server CPU per request than 1: app
# runs in turns through bench.bench.app_run, see the commit that set this default).
DEFAULT_TORCH_THREADS = 1
# The drawing in processes of their own, so the handlers' Python does not wait for Gradio's and Gradio's not for
# theirs: on 2 cores, 2 workers served 1.21-1.22x the requests per second of drawing in the server's process under
# load (python -m bench.bench); two, so one stays free while the other writes a long export.
DEFAULT_WORKERS = 2
SESSIONS = 1000  # Gradio keeps each session's updated components (about 185 KiB); the oldest beyond this go
# Gradio's queue rebuilds a summary table of up to 10,000 past events after every event, for a monitoring page this
# app does not open: 16% of a busy server's CPU, growing with the table. Rebuild it rarely, from fewer events.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
CSS = """
.kk-status p { color: #b42318; margin: 0; }
/* room for the label Gradio lays over an image's top edge, which otherwise hides the top of a wide drawing's ink */
.kk-output .image-container { padding-top: 28px; }
@media (max-width: 640px) {
  /* every tab fits in one row of a phone, instead of hiding behind a menu (the hidden copy sizes the row) */
  .tab-wrapper .tab-container button { padding: 6px 8px; font-size: 14px; }
  /* the drawing comes first, so a visitor sees it without scrolling */
  .kk-row > .kk-output { order: -1; }
}
"""


def build_app(handwriter: Handwriter, styles: AttributeModel, faces: AttributeModel,
              concurrency: int = DEFAULT_CONCURRENCY, stored_results: bool = False) -> gr.Blocks:
    Serving.stored_results = stored_results
    # delete_cache: generated files older than an hour leave Gradio's cache every hour.
    with gr.Blocks(title="KepKreator", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# KepKreator\nConditional image generation: name what you want, a small generator draws it.")
        with gr.Tab("Handwriting"):
            handwriting_tab.build(handwriter)
        with gr.Tab("QMNIST styles"):
            styles_tab.build(styles)
        with gr.Tab("Face blending"):
            faces_tab.build(faces)
    # Requests beyond `concurrency` per endpoint wait in the queue; more than 64 waiting are turned away.
    demo.queue(max_size=64, default_concurrency_limit=concurrency)
    return demo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run the KepKreator app.")
    # A Space sets GRADIO_SERVER_NAME=0.0.0.0; anywhere else the app stays on loopback unless told.
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=number_flag(0, 65535, whole=True),
                        default=os.environ.get("GRADIO_SERVER_PORT", "7860"),
                        help="port to listen on (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public Gradio link")
    for flag, (default, what) in APP_MODELS.items():
        env = f"KEPKREATOR_{flag.upper()}_REPO"
        parser.add_argument(f"--{flag}", default=default, help=f"{what}: shipped name or weights folder")
        parser.add_argument(f"--{flag}-repo", default=os.environ.get(env), metavar="OWNER/NAME",
                            help=f"Hub repo to use when --{flag} is not found locally (env {env})")
    one_to_64 = number_flag(1, 64, whole=True)
    parser.add_argument("--concurrency", type=one_to_64, default=DEFAULT_CONCURRENCY, metavar="N",
                        help=f"requests each endpoint works on at once (default: {DEFAULT_CONCURRENCY})")
    parser.add_argument("--torch-threads", type=one_to_64, default=DEFAULT_TORCH_THREADS, metavar="N",
                        help=f"threads each forward pass may use (default: {DEFAULT_TORCH_THREADS})")
    parser.add_argument("--share-passes", action="store_true",
                        help="merge concurrent requests' forward passes for the same model (kepkreator/batching.py); "
                             "at the default concurrency it cost throughput (python -m bench.bench), so it is off")
    parser.add_argument("--workers", type=number_flag(0, MAX_WORKERS, whole=True), default=DEFAULT_WORKERS, metavar="N",
                        help="processes the drawing runs in, forked from the server once the models are loaded "
                             f"(default: {DEFAULT_WORKERS}; 0: in the server's own process)")
    parser.add_argument("--eager-models", action="store_true",
                        help="run the networks as Python modules instead of frozen TorchScript (slower under load; "
                             "for comparison)")
    parser.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                        help="what the networks compute in (default auto: bfloat16 where the CPU has AMX, which "
                             "draws about as well and faster; float32 elsewhere)")
    parser.add_argument("--stored-results", action="store_true",
                        help="for benchmarks: every handler returns its first answer again, drawing nothing (the "
                             "ceiling the real app is measured against)")
    args = parser.parse_args(argv)
    if args.workers and args.share_passes:
        parser.error("--share-passes needs --workers 0: passes are shared by a thread of the server's own process")
    for leftover in sweep_leftovers():
        print(f"removed {leftover}, left by a server that was killed")
    torch.set_num_threads(args.torch_threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = {"batch_requests": args.share_passes, "freeze": not args.eager_models,
                "precision": fastest_precision() if args.precision == "auto" else args.precision}
    try:
        handwriter = Handwriter.from_pretrained(args.cgan, args.cgan_repo, **settings)
        styles = AttributeModel.from_pretrained(args.gcn, args.gcn_repo, **settings)
        faces = AttributeModel.from_pretrained(args.faces, args.faces_repo, **settings)
    except WeightsError as err:
        print(f"error: cannot start: {err}", file=sys.stderr)
        raise SystemExit(2)
    logging.getLogger("kepkreator.app").info("networks computing in %s (--precision to choose)", settings["precision"])
    demo = build_app(handwriter, styles, faces, args.concurrency, args.stored_results)
    render_workers.start(args.workers)  # before the server starts its threads
    # SIGTERM (a Space restarting, `kill`) exits like Ctrl+C, so the exit handlers remove the image folders.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    guard = [Middleware(ApiGuard, arity=endpoint_arity(demo))]  # no uploads; one-line answers to malformed calls
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
                app_kwargs={"middleware": guard}, state_session_capacity=SESSIONS)


if __name__ == "__main__":
    main()
