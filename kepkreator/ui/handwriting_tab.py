"""Tab "Handwriting": type a number, see it handwritten by the conditional GAN, in its hands or in a visitor's own
(one digit drawn on a pad)."""
from __future__ import annotations

import functools
import random

import gradio as gr

from kepkreator.hands import MIN_CONFIDENCE, decode_drawing
from kepkreator.handwriting import MAX_CHARACTERS, MAX_SCALE, MAX_WRAP, Handwriter, describe
from kepkreator.ui.drawing_pad import drawing_pad
from kepkreator.ui.files import image_file
from kepkreator.ui.wiring import drawing, first_drawing, parse_colour, status_line, wire
from kepkreator.validation import InputError, boolean, whole_number

DEFAULT_WRAP = 24  # characters per line: a phone number fits, and a line stays readable on a phone
EXAMPLES = ["2026", "+1 (555) 123-4567", "24/11/2026 12:30", "3.14159", "-42", "$1,000.50", "99.9%",
            "0123456789"]


def handwrite(handwriter: Handwriter, text, seed, variation, neatness, ink, paper, transparent, stroke, scale,
              line_width, hand="") -> dict:
    """`text` in one consistent hand (the seed's, or the `hand` code find_hand gave), wrapped at `line_width`
    characters: the image as a PNG named after it."""
    found = handwriter.hand_of(hand) if hand else None
    image = handwriter(text, seed=whole_number("seed", seed, 0, 2**63 - 1), variation=variation, neatness=neatness,
                       ink=parse_colour("ink", ink),
                       paper=None if boolean("transparent", transparent) else parse_colour("paper", paper),
                       stroke=stroke, scale=scale, wrap=line_width, palette=True, hand=found)
    whose = "in the visitor's hand" if found else "handwritten"
    return drawing(image_file(image, text), f"{' '.join(str(text).split())}, {whose}")


def read_drawing(handwriter: Handwriter, pad) -> tuple:
    """Which character the pad shows, for the page to offer (a visitor corrects it if need be)."""
    if pad == "":
        return None, ""
    character, confidence = handwriter.read(decode_drawing(pad))
    if confidence < MIN_CONFIDENCE:
        return None, f"Which digit is it? It does not read clearly (at best a {character}); pick it below."
    return character, f"It reads as a {character} ({100 * confidence:.0f}% sure); pick another below if not."


def find_hand(handwriter: Handwriter, pad, character) -> tuple[str, str, str]:
    """The hand of the digit drawn on the pad (`character`: which digit it is; empty lets the judge read it): its
    code for handwrite's `hand`, the character it was found from, and a note for the page."""
    if character is not None and not isinstance(character, str):
        raise InputError("character must be a digit as text, or empty")
    hand = handwriter.hand_from(decode_drawing(pad), character or None)
    return hand.code(), hand.character, (f"Writing in your hand, found from your {hand.character}. **New style** "
                                         "goes back to the model's hands.")


def build(handwriter: Handwriter) -> None:
    gr.Markdown(f"Type a number and see it handwritten: {describe(handwriter.classes)}, up to {MAX_CHARACTERS} "
                "characters. One style is shared by the whole text; **New style** draws another hand, and "
                "**Your own hand** writes in a hand like yours.")
    with gr.Row(elem_classes=["kk-row"]):
        with gr.Column(scale=1, min_width=280):
            text = gr.Textbox(label="Text", value="2026", lines=1, max_lines=4, placeholder="e.g. +1 (555) 123-4567",
                              info="Enter draws; Shift+Enter starts a new line", elem_id="hw-text")
            button = gr.Button("Generate", variant="primary", elem_id="hw-generate")
            with gr.Row():
                seed = gr.Number(label="Style seed", value=7, precision=0, minimum=0, elem_id="hw-seed")
                new_style = gr.Button("New style", size="sm")
            variation = gr.Slider(0, 1, value=0.15, step=0.05, label="Variation", elem_id="hw-variation",
                                  info="0: the same hand throughout; 1: every character independent")
            neatness = gr.Slider(0, 1, value=0.5, step=0.05, label="Neatness", info="0: wild; 1: tidy",
                                 elem_id="hw-neatness")
            with gr.Accordion("Your own hand", open=True):
                gr.Markdown("Draw one digit on the pad, large. **Write in my hand** finds a hand like yours and "
                            "writes the text in it.")
                pad = drawing_pad("hw-pad")
                with gr.Row():
                    character = gr.Dropdown(list(handwriter.classes), value=None, label="Your digit",
                                            allow_custom_value=False, min_width=100, elem_id="hw-character")
                    use_hand = gr.Button("Write in my hand", elem_id="hw-use-hand", min_width=120)
                reading = gr.Markdown("", elem_id="hw-reading")
                hand_status = status_line("hw-hand-status")
                hand = gr.Textbox("", visible=False, label="hand", elem_id="hw-hand")
            with gr.Accordion("Ink, paper and size", open=False):
                with gr.Row():
                    ink = gr.ColorPicker(value="#141e5a", label="Ink", min_width=100)
                    paper = gr.ColorPicker(value="#ffffff", label="Paper", min_width=100)
                transparent = gr.Checkbox(label="Transparent background", value=False)
                stroke = gr.Slider(-1, 2, value=0, step=0.25, label="Stroke thickness", info="-1 thinner, 2 bolder")
                scale = gr.Slider(1, MAX_SCALE, value=3, step=1, label="Output scale", info="pixels per glyph pixel")
                line_width = gr.Slider(4, MAX_WRAP, value=DEFAULT_WRAP, step=1, label="Line width",
                                       info="characters per line before the text wraps")
        inputs = [text, seed, variation, neatness, ink, paper, transparent, stroke, scale, line_width, hand]
        draw = functools.partial(handwrite, handwriter)
        with gr.Column(scale=2, min_width=280, elem_classes=["kk-output"]):
            opening = first_drawing(draw, inputs)
            output = gr.Image(opening["value"], alt_text=opening["alt_text"], label="Handwriting", type="filepath",
                              format="png", image_mode=None, buttons=["download", "fullscreen"], elem_id="hw-output")
            status = status_line("hw-status")
    event_triggers = [button.click, text.submit, seed.change, *(c.change for c in inputs[2:])]
    page = wire(draw, inputs, [output], status, event_triggers, api_name="handwrite")
    wire(functools.partial(read_drawing, handwriter), [pad], [character, reading], hand_status, [pad.change],
         api_name="read_drawing")
    # the found hand's code changes `hand`, whose change draws the text again
    wire(functools.partial(find_hand, handwriter), [pad, character], [hand, character, reading], hand_status,
         [use_hand.click], api_name="find_hand")
    # A found hand redraws the text, which on a phone sits a screen above the pad: bring it into view.
    hand.change(None, js="() => document.getElementById('hw-output')?.scrollIntoView({block: 'nearest'})",
                api_visibility="private")
    new_style.click(lambda: (random.randrange(1_000_000), "", ""), None, [seed, hand, reading],
                    api_visibility="private")
    examples = gr.Examples([[e] for e in EXAMPLES], inputs=[text], label="Examples: click one to draw it")
    examples.load_input_event.then(page, inputs, [output, status], api_visibility="private", scroll_to_output=True,
                                   preprocess=False)
