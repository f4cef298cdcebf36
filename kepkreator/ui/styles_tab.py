"""Tab "QMNIST styles": a digit by a chosen writer (or a blend of two), in any colour and transform."""
from __future__ import annotations

import functools

import gradio as gr
import torch

from kepkreator.attributes import AttributeGlyphs, AttributeModel, brightness, describe_choice, ink_colour
from kepkreator.attributes import blend as mixed
from kepkreator.handwriting import Layout, Style, write
from kepkreator.imaging import blend_captions, labelled_grid, to_pil
from kepkreator.ui.wiring import drawing, first_drawing, parse_colour, status_line, user_errors, wire
from kepkreator.ui.files import image_file
from kepkreator.ui.readback import drawing_and_readback, readback_labels
from kepkreator.validation import choice, number, whole_number

MAX_SWEEP = 16


def choices(model: AttributeModel, digit, writer_a, writer_b, blend, red, green, blue, transform) -> dict:
    blend = number("blend", blend, 0, 1)
    writers = model.schema["writer"]
    writer = mixed(choice("writer", writer_a, writers), choice("writer", writer_b, writers), blend)
    return {"digit": choice("digit", digit, model.schema["digit"]), "writer": writer,
            "colour": ink_colour(red, green, blue),
            "transform": choice("transform", transform, model.schema["transform"])}


def style_digit(model: AttributeModel, digit, writer_a, writer_b, blend, red, green, blue, transform) -> list:
    """One digit in the chosen hand, colour and transform, and what the cooperating classifier reads in it."""
    chosen = choices(model, digit, writer_a, writer_b, blend, red, green, blue, transform)
    image = model.generate(model.vector(**chosen))[0]
    shown = (image * brightness(chosen["colour"])).clamp(0, 1)
    described = ", ".join(describe_choice(chosen[name]) for name in ("writer", "colour", "transform"))
    path = image_file(to_pil(shown, scale=8), f"digit-{chosen['digit']}-{described}")
    return [drawing(path, f"The digit {chosen['digit']} drawn by writer {described}"),
            *readback_labels(model, image, chosen)]


def style_number(model: AttributeModel, text, writer_a, writer_b, blend, red, green, blue, transform) -> dict:
    """A number written digit by digit in the chosen hand, colour and transform."""
    chosen = choices(model, "0", writer_a, writer_b, blend, red, green, blue, transform)
    chosen.pop("digit")
    glyphs = AttributeGlyphs(model, "digit", gain=brightness(chosen["colour"]), **chosen)
    image = write(text, glyphs, Style(seed=0), Layout(scale=3, paper=(0, 0, 0)))
    return drawing(image_file(image, f"{text}-writer-{describe_choice(chosen['writer'])}"),
                   f"{' '.join(str(text).split())}, written by writer {describe_choice(chosen['writer'])}")


def style_grid(model: AttributeModel, writer_a, writer_b, blend, red, green, blue) -> dict:
    """Every digit (columns) in every transform (rows) for the chosen hand and colour."""
    schema = model.schema
    base = choices(model, "0", writer_a, writer_b, blend, red, green, blue, schema["transform"][0])
    vectors = torch.cat([model.vector(**{**base, "digit": d, "transform": t})
                         for t in schema["transform"] for d in schema["digit"]])
    images = (model.generate(vectors) * brightness(base["colour"])).clamp(0, 1)
    writer = describe_choice(base["writer"])
    return drawing(image_file(labelled_grid(images, schema["digit"], schema["transform"], scale=3),
                            f"grid-writer-{writer}"), f"Every digit in every transform by writer {writer}")


def style_sweep(model: AttributeModel, digit, writer_a, writer_b, red, green, blue, transform, steps) -> dict:
    """The digit morphing from writer A to writer B in `steps` images."""
    steps = whole_number("steps", steps, 2, MAX_SWEEP)
    chosen = [choices(model, digit, writer_a, writer_b, i / (steps - 1), red, green, blue, transform)
              for i in range(steps)]
    vectors = torch.cat([model.vector(**c) for c in chosen])
    images = (model.generate(vectors) * brightness(chosen[0]["colour"])).clamp(0, 1)
    return drawing(image_file(labelled_grid(images, blend_captions(steps), scale=4), f"sweep-{writer_a}-{writer_b}"),
                   f"The digit {chosen[0]['digit']} morphing from writer {writer_a} to writer {writer_b}")


def picked_colour(colour) -> tuple[float, float, float]:
    """A picked colour as the three sliders' values, rounded for people."""
    return tuple(round(channel / 255, 2) for channel in parse_colour("picked", colour))


def build(model: AttributeModel) -> None:
    schema = model.schema
    writers = schema["writer"]
    gr.Markdown("A Generative Cooperative Net draws a digit from four attribute vectors: digit, writer (one of "
                f"{len(writers)} QMNIST writers, or a blend of two), colour (any mix of red, green and blue) and "
                "transform. Beside it, what its cooperating classifier reads back from the image.")
    with gr.Row(elem_classes=["kk-row"]):
        with gr.Column(scale=1, min_width=280):
            digit = gr.Dropdown(schema["digit"], value=schema["digit"][7], label="Digit", elem_id="st-digit")
            with gr.Row():
                writer_a = gr.Dropdown(writers, value=writers[0], label="Writer A", filterable=True, min_width=120)
                writer_b = gr.Dropdown(writers, value=writers[1], label="Writer B", filterable=True, min_width=120)
            blend = gr.Slider(0, 1, value=0, step=0.05, label="Blend", info="0: writer A, 1: writer B")
            # One under another: three side by side are too narrow for their tracks, which ran over each other.
            red = gr.Slider(0, 1, value=1, step=0.01, label="Red", elem_id="st-red")
            green = gr.Slider(0, 1, value=0, step=0.01, label="Green", elem_id="st-green")
            blue = gr.Slider(0, 1, value=0, step=0.01, label="Blue", elem_id="st-blue")
            picker = gr.ColorPicker(value="#ff0000", label="Or pick the ink colour", elem_id="st-picker")
            transform = gr.Dropdown(schema["transform"], value=schema["transform"][0], label="Transform")
            draw_button = gr.Button("Draw", variant="primary", elem_id="st-draw")
        inputs = [digit, writer_a, writer_b, blend, red, green, blue, transform]
        draw = functools.partial(style_digit, model)
        image, status, labels = drawing_and_readback(model, draw, inputs, "st", "Generated", {"writer": 5})
    wire(draw, inputs, [image, *labels], status, [draw_button.click, *(c.change for c in inputs)], "style_digit")
    picker.change(user_errors(picked_colour), picker, [red, green, blue], api_visibility="private", preprocess=False)

    with gr.Accordion("Write a number in this hand", open=True):
        with gr.Row():
            number_text = gr.Textbox(label="Number", value="1905", scale=3, elem_id="st-number")
            write_button = gr.Button("Write", scale=1)
        number_inputs = [number_text, writer_a, writer_b, blend, red, green, blue, transform]
        write_number = functools.partial(style_number, model)
        opening = first_drawing(write_number, number_inputs)
        number_image = gr.Image(opening["value"], alt_text=opening["alt_text"], label="In this hand", type="filepath",
                                format="png", elem_id="st-number-output")
        number_status = status_line("st-number-status")
        wire(write_number, number_inputs, [number_image], number_status, [write_button.click, number_text.submit],
             "style_number")

    with gr.Accordion("Grids", open=False):
        with gr.Row():
            grid_button = gr.Button("All digits x all transforms")
            steps = gr.Slider(2, MAX_SWEEP, value=8, step=1, label="Sweep steps")
            sweep_button = gr.Button("Sweep writer A -> B")
        grid_image = gr.Image(label="Grid", type="filepath", format="png")
        grid_status = status_line("st-grid-status")
        wire(functools.partial(style_grid, model), [writer_a, writer_b, blend, red, green, blue], [grid_image],
             grid_status, [grid_button.click], "style_grid")
        wire(functools.partial(style_sweep, model), [digit, writer_a, writer_b, red, green, blue, transform, steps],
             [grid_image], grid_status, [sweep_button.click], "style_sweep")
