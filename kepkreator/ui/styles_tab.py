"""Tab "QMNIST styles": a digit by a chosen writer (or a blend of two), in any colour and transform."""
from __future__ import annotations

import gradio as gr
import torch

from kepkreator.attributes import AttributeGlyphs, AttributeModel, readings_as_labels
from kepkreator.handwriting import Layout, Style, write
from kepkreator.imaging import blend_captions, labelled_grid, to_pil
from kepkreator.ui.common import first_drawing, parse_colour, png_file, user_errors
from kepkreator.validation import InputError, choice, number, whole_number

MAX_SWEEP = 16


def build(model: AttributeModel) -> None:
    schema = model.schema
    writers = schema["writer"]

    def choices(digit, writer_a, writer_b, blend, red, green, blue, transform) -> dict:
        blend = number("blend", blend, 0, 1)
        colour = {name: number(name, value, 0, 1) for name, value in (("red", red), ("green", green), ("blue", blue))}
        if sum(colour.values()) <= 0:
            raise InputError("Set at least one of red, green and blue above zero.")
        writer_a, writer_b = choice("writer", writer_a, writers), choice("writer", writer_b, writers)
        writer = {writer_a: 1 - blend}
        writer[writer_b] = writer.get(writer_b, 0) + blend
        return {"digit": choice("digit", digit, schema["digit"]), "writer": writer, "colour": colour,
                "transform": choice("transform", transform, schema["transform"])}

    def style_digit(digit, writer_a, writer_b, blend, red, green, blue, transform):
        """One digit in the chosen hand, colour and transform, and what the cooperating classifier reads in it."""
        chosen = choices(digit, writer_a, writer_b, blend, red, green, blue, transform)
        image = model.generate(model.vector(**chosen))[0]
        return [png_file(to_pil(image, scale=8)), *readings_as_labels(model, image)]

    def style_number(text, writer_a, writer_b, blend, red, green, blue, transform):
        """A number written digit by digit in the chosen hand, colour and transform."""
        chosen = choices("0", writer_a, writer_b, blend, red, green, blue, transform)
        chosen.pop("digit")
        glyphs = AttributeGlyphs(model, "digit", **chosen)
        return png_file(write(text, glyphs, Style(seed=0), Layout(scale=3, ink=(0, 0, 0))))

    def style_grid(writer_a, writer_b, blend, red, green, blue):
        """Every digit (columns) in every transform (rows) for the chosen hand and colour."""
        base = choices("0", writer_a, writer_b, blend, red, green, blue, schema["transform"][0])
        vectors = torch.cat([model.vector(**{**base, "digit": d, "transform": t})
                             for t in schema["transform"] for d in schema["digit"]])
        return png_file(labelled_grid(model.generate(vectors), schema["digit"], schema["transform"], scale=3))

    def style_sweep(digit, writer_a, writer_b, red, green, blue, transform, steps):
        """The digit morphing from writer A to writer B in `steps` images."""
        steps = whole_number("steps", steps, 2, MAX_SWEEP)
        vectors = torch.cat([model.vector(**choices(digit, writer_a, writer_b, i / (steps - 1), red, green, blue,
                                                    transform)) for i in range(steps)])
        return png_file(labelled_grid(model.generate(vectors), blend_captions(steps), scale=4))

    def picked(colour):
        r, g, b = parse_colour("picked", colour)
        return r / 255, g / 255, b / 255

    gr.Markdown("A Generative Cooperative Net draws a digit from four attribute vectors: digit, writer (one of "
                f"{len(writers)} QMNIST writers, or a blend of two), colour (any mix of red, green and blue) and "
                "transform. Beside it, what the cooperating classifier reads back from the image.")
    with gr.Row():
        with gr.Column(scale=1):
            digit = gr.Dropdown(schema["digit"], value=schema["digit"][7], label="Digit", elem_id="st-digit")
            with gr.Row():
                writer_a = gr.Dropdown(writers, value=writers[0], label="Writer A", filterable=True)
                writer_b = gr.Dropdown(writers, value=writers[1], label="Writer B", filterable=True)
            blend = gr.Slider(0, 1, value=0, step=0.05, label="Blend", info="0: writer A, 1: writer B")
            with gr.Row():
                red = gr.Slider(0, 1, value=1, step=0.05, label="Red")
                green = gr.Slider(0, 1, value=0, step=0.05, label="Green")
                blue = gr.Slider(0, 1, value=0, step=0.05, label="Blue")
            picker = gr.ColorPicker(value="#ff0000", label="Or pick a colour")
            transform = gr.Dropdown(schema["transform"], value=schema["transform"][0], label="Transform")
        inputs = [digit, writer_a, writer_b, blend, red, green, blue, transform]
        first_digit, *first_readings = first_drawing(style_digit, inputs)
        with gr.Column(scale=1):
            image = gr.Image(first_digit, label="Generated", type="filepath", format="png", elem_id="st-output")
        with gr.Column(scale=1):
            labels = [gr.Label(reading, label=f"Classifier reads: {name}",
                               num_top_classes=5 if name == "writer" else 3)
                      for name, reading in zip(schema, first_readings)]
    draw = user_errors(style_digit)
    # The named endpoint first: Gradio names later events after the same function with a suffix.
    draw_button = gr.Button("Draw", variant="primary", elem_id="st-draw")
    draw_button.click(draw, inputs, [image, *labels], api_name="style_digit")
    for control in inputs:
        control.change(draw, inputs, [image, *labels], api_visibility="private", trigger_mode="always_last")
    picker.input(user_errors(picked), picker, [red, green, blue], api_visibility="private")

    with gr.Accordion("Write a number in this hand", open=True):
        with gr.Row():
            number_text = gr.Textbox(label="Number", value="1905", scale=3, elem_id="st-number")
            write_button = gr.Button("Write", scale=1)
        number_inputs = [number_text, writer_a, writer_b, blend, red, green, blue, transform]
        number_image = gr.Image(first_drawing(style_number, number_inputs), label="In this hand", type="filepath",
                                format="png", elem_id="st-number-output")
        write_button.click(user_errors(style_number), number_inputs, number_image, api_name="style_number")
        number_text.submit(user_errors(style_number), number_inputs, number_image, api_visibility="private")

    with gr.Accordion("Grids", open=False):
        with gr.Row():
            grid_button = gr.Button("All digits x all transforms")
            steps = gr.Slider(2, MAX_SWEEP, value=8, step=1, label="Sweep steps")
            sweep_button = gr.Button("Sweep writer A -> B")
        grid_image = gr.Image(label="Grid", type="filepath", format="png")
        grid_button.click(user_errors(style_grid), [writer_a, writer_b, blend, red, green, blue], grid_image,
                          api_name="style_grid")
        sweep_button.click(user_errors(style_sweep), [digit, writer_a, writer_b, red, green, blue, transform, steps],
                           grid_image, api_name="style_sweep")
