"""Tab "Face blending": mix two identities, pick a condition and a transform; export synthesized faces."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr
import torch

from kepkreator.attributes import AttributeModel, readings_as_labels
from kepkreator.augment import MAX_EXPORT, export_zip, synthesize
from kepkreator.imaging import blend_captions, labelled_grid, to_pil
from kepkreator.ui.common import first_drawing, png_file, user_errors
from kepkreator.validation import choice, number, whole_number

MAX_STEPS = 12
UI_EXPORT_LIMIT = 500  # the UI keeps each request small; the CLI exports up to MAX_EXPORT
KEEP_EXPORTS = 20  # the newest zips stay on disk for download; older ones are removed


def build(model: AttributeModel) -> None:
    schema = model.schema
    identities, conditions = schema["identity"], schema["condition"]
    export_dir = Path(tempfile.mkdtemp(prefix="kepkreator-exports-"))

    def blended(identity_a, identity_b, blend) -> dict[str, float]:
        blend = number("blend", blend, 0, 1)
        identity_a, identity_b = choice("identity", identity_a, identities), choice("identity", identity_b, identities)
        weights = {identity_a: 1 - blend}
        weights[identity_b] = weights.get(identity_b, 0) + blend
        return weights

    def face(identity_a, identity_b, blend, condition, transform):
        """A face blending identity A into identity B, and what the cooperating classifier reads in it."""
        vector = model.vector(identity=blended(identity_a, identity_b, blend),
                              condition=choice("condition", condition, conditions),
                              transform=choice("transform", transform, schema["transform"]))
        image = model.generate(vector)[0]
        return [png_file(to_pil(image, scale=4)), *readings_as_labels(model, image)]

    def strip(identity_a, identity_b, transform, steps):
        """Rows: every condition; columns: identity A to identity B in `steps` images."""
        steps = whole_number("steps", steps, 2, MAX_STEPS)
        transform = choice("transform", transform, schema["transform"])
        vectors = torch.cat([model.vector(identity=blended(identity_a, identity_b, i / (steps - 1)), condition=c,
                                          transform=transform) for c in conditions for i in range(steps)])
        return png_file(labelled_grid(model.generate(vectors), blend_captions(steps), conditions, scale=2))

    def export(count, blend, seed):
        """A zip of synthesized faces (blends of two random identities) with labels.csv."""
        count = whole_number("count", count, 1, UI_EXPORT_LIMIT)
        seed = whole_number("seed", seed, 0, 2**31 - 1)
        faces = synthesize(model, count, seed, number("blend", blend, 0, 1))
        folder = Path(tempfile.mkdtemp(dir=export_dir))
        path = export_zip(faces, folder / f"kepkreator-faces-{count}-seed{seed}.zip")
        for old in sorted(export_dir.iterdir(), key=lambda p: p.stat().st_mtime)[:-KEEP_EXPORTS]:
            shutil.rmtree(old, ignore_errors=True)
        return str(path)

    gr.Markdown(f"The cooperative net trained on faces: {len(identities)} identities x {len(conditions)} conditions "
                "x 8 transforms. Blending two identity vectors draws a person who is neither: new faces for data "
                "augmentation.")
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                identity_a = gr.Dropdown(identities, value=identities[0], label="Identity A")
                identity_b = gr.Dropdown(identities, value=identities[1], label="Identity B")
            blend = gr.Slider(0, 1, value=0.5, step=0.05, label="Blend", info="0: identity A, 1: identity B",
                              elem_id="fb-blend")
            condition = gr.Dropdown(conditions, value=conditions[0], label="Condition")
            transform = gr.Dropdown(schema["transform"], value=schema["transform"][0], label="Transform")
            draw_button = gr.Button("Draw", variant="primary", elem_id="fb-draw")
        inputs = [identity_a, identity_b, blend, condition, transform]
        first_face, *first_readings = first_drawing(face, inputs)
        with gr.Column(scale=1):
            image = gr.Image(first_face, label="Generated face", type="filepath", format="png", elem_id="fb-output")
        with gr.Column(scale=1):
            labels = [gr.Label(reading, label=f"Classifier reads: {name}", num_top_classes=3)
                      for name, reading in zip(schema, first_readings)]
    draw = user_errors(face)
    draw_button.click(draw, inputs, [image, *labels], api_name="face")  # first, to keep the plain name
    for control in inputs:
        control.change(draw, inputs, [image, *labels], api_visibility="private", trigger_mode="always_last")

    with gr.Accordion("A to B across the conditions", open=False):
        with gr.Row():
            steps = gr.Slider(2, MAX_STEPS, value=6, step=1, label="Steps")
            strip_button = gr.Button("Draw the strip")
        strip_image = gr.Image(label="A to B (columns) x conditions (rows)", type="filepath", format="png")
        strip_button.click(user_errors(strip), [identity_a, identity_b, transform, steps], strip_image,
                           api_name="face_strip")

    with gr.Accordion("Export synthesized faces (augmentation)", open=False):
        gr.Markdown(f"Up to {UI_EXPORT_LIMIT} faces here; `python -m kepkreator.augment` exports up to {MAX_EXPORT}.")
        with gr.Row():
            count = gr.Number(label="Faces", value=50, precision=0, minimum=1, maximum=UI_EXPORT_LIMIT)
            export_blend = gr.Slider(0, 1, value=0.5, step=0.05, label="Blend of the second identity")
            seed = gr.Number(label="Seed", value=0, precision=0, minimum=0)
        export_button = gr.Button("Export zip")
        archive = gr.File(label="Faces and labels.csv")
        export_button.click(user_errors(export), [count, export_blend, seed], archive, api_name="export_faces")
