"""KepKreator: conditional image generation in the browser.

    python app.py                      # http://127.0.0.1:7860, on the shipped weights
    python app.py --host 0.0.0.0 --port 8080
    python app.py --share              # a temporary public link through Gradio

The app never trains and never downloads: it loads the weights once at start
and draws on request. Each tab lives in kepkreator/ui/.
"""
from __future__ import annotations

import logging
import os
import signal
import sys

from kepkreator.server_settings import (APP_MODELS, DEFAULT_CONCURRENCY, DEFAULT_WORKERS, TABS,  # noqa: F401
                                        parse_args)

SESSIONS = 1000  # Gradio keeps each session's updated components (about 185 KiB); the oldest beyond this go
# Gradio's queue rebuilds a summary table of up to 10,000 past events after every event, for a monitoring page this
# app does not open: 16% of a busy server's CPU, growing with the table. Rebuild it rarely, from fewer events.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
CSS = """
.kk-status p { color: #b42318; margin: 0; }
/* room for the label Gradio lays over an image's top edge, which otherwise hides the top of a wide drawing's ink */
.kk-output .image-container { padding-top: 28px; }
/* a read-back's title says what was asked and how reliable the reading is: in a narrow column it wraps to three
   lines, which Gradio's floating label would lay over the reading itself */
[data-testid="label"] > label[data-testid="block-label"] { position: static; }
@media (max-width: 640px) {
  /* every tab fits in one row of a phone, instead of hiding behind a menu (the hidden copy sizes the row) */
  .tab-wrapper .tab-container button { padding: 6px 8px; font-size: 14px; }
  /* the drawing comes first, so a visitor sees it without scrolling */
  .kk-row > .kk-output { order: -1; }
}
"""


def build_app(handwriter, styles, faces, concurrency: int = DEFAULT_CONCURRENCY, stored_results: bool = False):
    """The page: one tab per model (a Handwriter and two AttributeModels), queued `concurrency` per endpoint."""
    import gradio as gr

    from kepkreator.ui import faces_tab, handwriting_tab, styles_tab
    from kepkreator.ui.wiring import Serving

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
    args = parse_args(argv)  # before torch and Gradio load: --help and a wrong flag answer at once
    import torch
    from starlette.middleware import Middleware

    from kepkreator.attributes import AttributeModel
    from kepkreator.batching import fastest_precision
    from kepkreator.handwriting import Handwriter
    from kepkreator.hub import WeightsError, resolve
    from kepkreator.ui.files import image_file, sweep_leftovers
    from kepkreator.ui.guard import ApiGuard, endpoint_arity, handler_arity
    from kepkreator.ui.workers import render_workers

    for leftover in sweep_leftovers():
        print(f"removed {leftover}, left by a server that was killed")
    torch.set_num_threads(args.torch_threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = {"batch_requests": args.share_passes, "freeze": not args.eager_models,
                "precision": fastest_precision() if args.precision == "auto" else args.precision}
    try:
        handwriter = Handwriter.from_pretrained(args.cgan, args.cgan_repo, **settings, reader=args.reader,
                                                reader_repo_id=args.reader_repo)
        styles = AttributeModel.from_pretrained(args.gcn, args.gcn_repo, **settings)
        faces = AttributeModel.from_pretrained(args.faces, args.faces_repo, **settings)
    except WeightsError as err:
        print(f"error: cannot start: {err}", file=sys.stderr)
        raise SystemExit(2)
    log = logging.getLogger("kepkreator.app")
    for flag in APP_MODELS:
        log.info("%s: %s (--%s to choose)", TABS[flag], resolve(getattr(args, flag), getattr(args, f"{flag}_repo")),
                 flag)
    log.info("networks computing in %s (--precision to choose)", settings["precision"])
    demo = build_app(handwriter, styles, faces, args.concurrency, args.stored_results)
    render_workers.start(args.workers)  # before the server starts its threads
    # SIGTERM (a Space restarting, `kill`) exits like Ctrl+C, so the exit handlers remove the image folders.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # only the queue's ways in, each bounded; one-line answers to malformed calls (kepkreator/ui/guard.py)
    guard = [Middleware(ApiGuard, arity=endpoint_arity(demo), handlers=handler_arity(demo),
                        drawings=str(image_file.folders.root))]
    # quiet: Gradio's own banner advises `share=True` in launch(); this app's flag is --share
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS, quiet=True,
                app_kwargs={"middleware": guard}, state_session_capacity=SESSIONS, prevent_thread_lock=True)
    print(f"KepKreator is serving on {demo.local_url}" + (f" and {demo.share_url}" if demo.share_url else
                                                            " (python app.py --share for a public link)"), flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
