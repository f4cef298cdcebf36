"""Tab "Handwriting": type a number, see it handwritten by the conditional GAN."""
from __future__ import annotations

import random

import gradio as gr

from kepkreator.handwriting import MAX_CHARACTERS, MAX_SCALE, Handwriter, describe
from kepkreator.ui.common import first_drawing, parse_colour, png_file, user_errors
from kepkreator.validation import whole_number


def build(handwriter: Handwriter) -> None:
    def handwrite(text, seed, variation, neatness, ink, paper, transparent, stroke, scale):
        """Write `text` in one consistent hand; returns the image as PNG."""
        return png_file(handwriter(
            text, seed=whole_number("seed", seed, 0, 2**63 - 1), variation=variation, neatness=neatness,
            ink=parse_colour("ink", ink), paper=None if transparent else parse_colour("paper", paper),
            stroke=stroke, scale=scale,
        ))

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
        inputs = [text, seed, variation, neatness, ink, paper, transparent, stroke, scale]
        with gr.Column(scale=2):
            output = gr.Image(first_drawing(handwrite, inputs), label="Handwriting", type="filepath", format="png",
                              image_mode=None, buttons=["download", "fullscreen"], elem_id="hw-output")
    handler = user_errors(handwrite)
    button.click(handler, inputs, output, api_name="handwrite")
    text.submit(handler, inputs, output, api_visibility="private")
    new_style.click(lambda: random.randrange(1_000_000), None, seed, api_visibility="private").then(
        handler, inputs, output, api_visibility="private")
    gr.Examples([["2026", 7, 0.15, 0.5], ["3 14159", 11, 0.15, 0.7],
                 ["0123456789", 3, 0.1, 0.6], ["12 34\n56 78", 42, 0.3, 0.3]],
                inputs=[text, seed, variation, neatness], label="Examples")
