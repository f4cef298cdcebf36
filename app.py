"""KepKreator: conditional image generation in the browser.

    python app.py                      # http://127.0.0.1:7860, on the shipped weights
    python app.py --host 0.0.0.0 --port 8080
    python app.py --share              # a temporary public link through Gradio

The app never trains and never downloads: it loads the weights once at start
and draws on request. Every handler turns a user's mistake into a message.
"""
from __future__ import annotations

import argparse
import logging
import random
import re
import sys

import gradio as gr

from kepkreator.handwriting import MAX_CHARACTERS, MAX_SCALE, Handwriter, InputError, describe
from kepkreator.hub import WeightsError

log = logging.getLogger("kepkreator.app")

HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)$")


def parse_colour(name: str, value: str) -> tuple[int, int, int]:
    """'#1e2a5a', '#fff' or 'rgb(30, 42, 90)' (what colour pickers send) -> (r, g, b)."""
    text = str(value or "").strip()
    if match := HEX.match(text):
        digits = match.group(1)
        digits = "".join(d * 2 for d in digits) if len(digits) == 3 else digits
        return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
    if (match := RGB.match(text)) and all(float(v) <= 255 for v in match.groups()):
        return tuple(round(float(v)) for v in match.groups())
    raise InputError(f"{name} colour {text!r} is not a colour: use #rrggbb")


def user_errors(fn):
    """Show InputError as its message; log anything else and show a short apology, never a trace."""
    def wrapped(*args):
        try:
            return fn(*args)
        except InputError as err:
            raise gr.Error(str(err), print_exception=False) from None
        except Exception:
            log.exception("request failed")
            raise gr.Error("Something went wrong drawing this; the error was logged.", print_exception=False) from None
    wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
    return wrapped


def handwriting_tab(handwriter: Handwriter) -> None:
    def handwrite(text, seed, variation, neatness, ink, paper, transparent, stroke, scale):
        """Write `text` in one consistent hand; returns the image as PNG."""
        if seed is None or (isinstance(seed, float) and not seed.is_integer()):
            raise InputError(f"seed must be a whole number, got {seed!r}")
        return handwriter(
            text, seed=int(seed), variation=variation, neatness=neatness,
            ink=parse_colour("ink", ink), paper=None if transparent else parse_colour("paper", paper),
            stroke=stroke, scale=scale,
        )

    gr.Markdown(f"Type a number and see it handwritten: {describe(handwriter.classes)}, spaces and new lines, "
                f"up to {MAX_CHARACTERS} characters. One style is shared by the whole text; "
                "**New style** draws another hand.")
    with gr.Row():
        with gr.Column(scale=1):
            text = gr.Textbox(label="Text", value="2026", lines=2, placeholder="e.g. 2026", elem_id="hw-text")
            with gr.Row():
                seed = gr.Number(label="Style seed", value=7, precision=0, minimum=0, elem_id="hw-seed")
                new_style = gr.Button("New style", size="sm")
            variation = gr.Slider(0, 1, value=0.15, step=0.05, label="Variation",
                                  info="0: the same hand throughout; 1: every character independent")
            neatness = gr.Slider(0, 1, value=0.5, step=0.05, label="Neatness", info="0: wild; 1: tidy")
            with gr.Accordion("Ink and paper", open=False):
                with gr.Row():
                    ink = gr.ColorPicker(value="#141e5a", label="Ink")
                    paper = gr.ColorPicker(value="#ffffff", label="Paper")
                transparent = gr.Checkbox(label="Transparent background", value=False)
                stroke = gr.Slider(-1, 2, value=0, step=0.25, label="Stroke thickness", info="-1 thinner, 2 bolder")
                scale = gr.Slider(1, MAX_SCALE, value=3, step=1, label="Output scale", info="pixels per glyph pixel")
            button = gr.Button("Generate", variant="primary", elem_id="hw-generate")
        with gr.Column(scale=2):
            output = gr.Image(label="Handwriting", type="pil", format="png", image_mode=None,
                              buttons=["download", "fullscreen"], elem_id="hw-output")
    inputs = [text, seed, variation, neatness, ink, paper, transparent, stroke, scale]
    handler = user_errors(handwrite)
    button.click(handler, inputs, output, api_name="handwrite")
    text.submit(handler, inputs, output, api_visibility="private")
    new_style.click(lambda: random.randrange(1_000_000), None, seed, api_visibility="private").then(
        handler, inputs, output, api_visibility="private")
    gr.Examples([["2026", 7, 0.15, 0.5], ["3 14159", 11, 0.15, 0.7],
                 ["0123456789", 3, 0.1, 0.6], ["12 34\n56 78", 42, 0.3, 0.3]],
                inputs=[text, seed, variation, neatness], label="Examples")


def build_app(handwriter: Handwriter) -> gr.Blocks:
    with gr.Blocks(title="KepKreator") as demo:
        gr.Markdown("# KepKreator\nConditional image generation: name what you want, a small generator draws it.")
        with gr.Tab("Handwriting"):
            handwriting_tab(handwriter)
    demo.queue(max_size=64, default_concurrency_limit=2)
    return demo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run the KepKreator app.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a temporary public Gradio link")
    parser.add_argument("--cgan", default="cgan-mnist", help="handwriting generator: shipped name or weights folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        handwriter = Handwriter.from_pretrained(args.cgan)
    except WeightsError as err:
        print(f"error: cannot start: {err}", file=sys.stderr)
        raise SystemExit(2)
    build_app(handwriter).launch(server_name=args.host, server_port=args.port, share=args.share)


if __name__ == "__main__":
    main()
