"""Tab "Face blending": mix two identities, pick a condition and a transform, and see the blend between the two
people it mixes; export synthesized faces."""
from __future__ import annotations

import functools

import gradio as gr
import torch
from PIL import Image

from kepkreator.attributes import AttributeModel
from kepkreator.attributes import blend as mixed
from kepkreator.synthesis import export_zip, synthesize
from kepkreator.imaging import blend_captions, labelled_grid, side_by_side, to_pil
from kepkreator.ui.wiring import drawing, gives_memory_back, status_line, wire
from kepkreator.ui.files import RecentFolders, gradio_cache, image_file
from kepkreator.ui.readback import drawing_and_readback, readback_labels
from kepkreator.validation import choice, number, whole_number

MAX_STEPS = 12
SHOWN = 192  # pixels per face on the page: three side by side fit a phone's width
UI_EXPORT_LIMIT = 500  # the UI keeps each request small; the command line writes sets of any size
KEEP_EXPORTS = 20  # the newest zips stay on disk for download; older ones are removed


def blended(model: AttributeModel, identity_a, identity_b, blend) -> dict[str, float]:
    identities = model.schema["identity"]
    blend = number("blend", blend, 0, 1)
    return mixed(choice("identity", identity_a, identities), choice("identity", identity_b, identities), blend)


def face(model: AttributeModel, identity_a, identity_b, blend, condition, transform) -> list:
    """Person A, the face blending A into B, and person B, side by side in the chosen condition and transform; and
    what the cooperating classifier reads in the blend."""
    chosen = {"identity": blended(model, identity_a, identity_b, blend),
              "condition": choice("condition", condition, model.schema["condition"]),
              "transform": choice("transform", transform, model.schema["transform"])}
    image = model.generate(model.vector(**chosen))[0]
    share = float(blend)
    name = f"face-{identity_a}-{identity_b}-{share:.2f}-{chosen['condition']}"
    if chosen["transform"] != model.schema["transform"][0]:
        name += f"-{chosen['transform']}"
    alt = (f"Left, {identity_a}; middle, a generated face {100 * (1 - share):.0f}% {identity_a} and "
           f"{100 * share:.0f}% {identity_b}; right, {identity_b}; {chosen['condition']}, {chosen['transform']}")
    a, b = (one_person(model, person, chosen["condition"], chosen["transform"]) for person in (identity_a, identity_b))
    shown = side_by_side([a, shown_face(image), b], [str(identity_a), f"blend {share:.2f}", str(identity_b)])
    return [drawing(image_file(shown, name, photo=True), alt),
            *readback_labels(model, image, chosen)]


@functools.lru_cache(maxsize=256)
def one_person(model: AttributeModel, identity: str, condition: str, transform: str) -> Image.Image:
    """One person as the model draws them, as shown: the same few ends of every blend, drawn once."""
    return shown_face(model.generate(model.vector(identity=identity, condition=condition, transform=transform))[0])


def shown_face(face: torch.Tensor) -> Image.Image:
    return to_pil(face, scale=max(1, SHOWN // face.shape[-1]), smooth=True)


def strip(model: AttributeModel, identity_a, identity_b, transform, steps) -> dict:
    """Rows: every condition; columns: identity A to identity B in `steps` images."""
    steps = whole_number("steps", steps, 2, MAX_STEPS)
    transform = choice("transform", transform, model.schema["transform"])
    conditions = model.schema["condition"]
    vectors = torch.cat([model.vector(identity=blended(model, identity_a, identity_b, i / (steps - 1)), condition=c,
                                      transform=transform) for c in conditions for i in range(steps)])
    scale = max(1, 128 // model.generator.image_size)
    grid = labelled_grid(model.generate(vectors), blend_captions(steps), conditions, scale=scale)
    return drawing(image_file(grid, f"faces-{identity_a}-to-{identity_b}", photo=True),
                   f"{identity_a} turning into {identity_b} in {steps} steps, one row per condition")


def export(model: AttributeModel, folders: RecentFolders, count, blend, seed) -> str:
    """A zip of synthesized faces (blends of two random identities) with labels.csv and the weights' terms."""
    count = whole_number("count", count, 1, UI_EXPORT_LIMIT)
    seed = whole_number("seed", seed, 0, 2**31 - 1)
    faces = synthesize(model, count, seed, number("blend", blend, 0, 1))
    return str(folders.write(lambda folder: export_zip(faces, folder / f"kepkreator-faces-{count}-seed{seed}.zip",
                                                       model.licence)))


# Two of Yale's people whose half-and-half blend in the plain photograph reads as one face, picked by eye from the
# shipped model's 105 blends in it (docs/known-limits.md): most pairs still blend in patches, and the first drawing
# a visitor sees should be one that works.
OPENING_PEOPLE = ("subject03", "subject07")


def opening_people(identities: list[str]) -> tuple[str, str]:
    """OPENING_PEOPLE where the model knows them, the first two people otherwise (KDEF, a user's own faces)."""
    return OPENING_PEOPLE if set(OPENING_PEOPLE) <= set(identities) else (identities[0], identities[1])


def opening_condition(conditions: list[str]) -> str:
    """The plain photograph where the schema has one (Yale's normal, KDEF's neutral) rather than the first name in
    alphabetical order: Yale's centre light is a harsh frontal light, and the opening blend drawn in it was a smudge."""
    return next((name for name in ("normal", "neutral") if name in conditions), conditions[0])


def build(model: AttributeModel) -> None:
    schema = model.schema
    identities, conditions = schema["identity"], schema["condition"]
    gr.Markdown(f"The cooperative net trained on faces: {len(identities)} identities x {len(conditions)} conditions "
                "x 8 transforms. Blending two identity vectors draws a person who is neither: new faces for data "
                "augmentation.")
    with gr.Row(elem_classes=["kk-row"]):
        with gr.Column(scale=1, min_width=280):
            with gr.Row():
                first, second = opening_people(identities)
                identity_a = gr.Dropdown(identities, value=first, label="Identity A", min_width=120)
                identity_b = gr.Dropdown(identities, value=second, label="Identity B", min_width=120)
            blend = gr.Slider(0, 1, value=0.5, step=0.05, label="Blend", info="0: identity A, 1: identity B",
                              elem_id="fb-blend")
            condition = gr.Dropdown(conditions, value=opening_condition(conditions), label="Condition")
            transform = gr.Dropdown(schema["transform"], value=schema["transform"][0], label="Transform")
            draw_button = gr.Button("Draw", variant="primary", elem_id="fb-draw")
        inputs = [identity_a, identity_b, blend, condition, transform]
        draw = functools.partial(face, model)
        image, status, labels = drawing_and_readback(model, draw, inputs, "fb", "A, the blend, B", output_scale=2)
    wire(draw, inputs, [image, *labels], status, [draw_button.click, *(c.change for c in inputs)], "face")

    with gr.Accordion("A to B across the conditions", open=False):
        with gr.Row():
            steps = gr.Slider(2, MAX_STEPS, value=6, step=1, label="Steps")
            strip_button = gr.Button("Draw the strip")
        strip_image = gr.Image(label="A to B (columns) x conditions (rows)", type="filepath", format="png")
        strip_status = status_line("fb-strip-status")
        wire(functools.partial(strip, model), [identity_a, identity_b, transform, steps], [strip_image], strip_status,
             [strip_button.click], "face_strip")

    with gr.Accordion("Export synthesized faces (augmentation)", open=False):
        gr.Markdown(f"Up to {UI_EXPORT_LIMIT} faces here; `python -m kepkreator.augment --count N --out FOLDER` "
                    "writes sets of any size, in shards a Hugging Face `datasets` loader reads.")
        with gr.Row():
            count = gr.Number(label="Faces", value=50, precision=0, minimum=1, maximum=UI_EXPORT_LIMIT)
            export_blend = gr.Slider(0, 1, value=0.5, step=0.05, label="Blend of the second identity")
            seed = gr.Number(label="Seed", value=0, precision=0, minimum=0)
        export_button = gr.Button("Export zip")
        archive = gr.File(label="Faces and labels.csv")
        export_status = status_line("fb-export-status")
        # in Gradio's cache, so it serves each zip where it is instead of copying it outside the bound
        exports = RecentFolders("kepkreator-exports-", KEEP_EXPORTS, parent=gradio_cache())
        wire(gives_memory_back(functools.partial(export, model, exports)), [count, export_blend, seed], [archive],
             export_status, [export_button.click], "export_faces")
