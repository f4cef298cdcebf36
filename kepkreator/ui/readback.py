"""What the cooperating classifier reads in a drawing, beside what was asked, and how far to trust it."""
from __future__ import annotations

import gradio as gr
import torch

from kepkreator.attributes import AttributeModel, Choice, describe_choice
from kepkreator.ui.wiring import first_drawing, status_line

# Below this share of real held-out images read right, a reading would mislead more than inform.
RELIABLE = 0.5
NOT_READ = "not read back"


def readback_labels(model: AttributeModel, image: torch.Tensor, asked: dict[str, Choice]) -> list[dict]:
    """One gr.Label update per attribute, titled with what was asked. The classifier's reading is shown where it
    reads real held-out images of that attribute right at least half the time; elsewhere the title says how
    often it does instead, and no reading is shown."""
    probabilities = model.read(image[None])
    labels = []
    for name, values in model.schema.items():
        asked_text = describe_choice(asked[name])
        share = model.reliability.get(name)
        if share is not None and share < RELIABLE:
            # A heading, not an empty box that looks like a reading failed to arrive.
            labels.append(gr.update(value=NOT_READ, label=f"{name}: you asked {asked_text}. Not read back: the "
                                    f"classifier reads only {100 * share:.0f}% of real held-out {name}s right"))
            continue
        trust = f" (right on {100 * share:.0f}% of real held-out images)" if share is not None else ""
        reading = dict(zip(values, probabilities[name][0].tolist()))
        labels.append(gr.update(value=reading, label=f"{name}: you asked {asked_text}; the classifier reads{trust}"))
    return labels


def drawing_and_readback(model: AttributeModel, draw, inputs: list, prefix: str, label: str,
                         top: dict[str, int] | None = None, output_scale: int = 1
                         ) -> tuple[gr.Image, gr.Markdown, list[gr.Label]]:
    """Two columns: the drawing of the controls' starting values with its status line (`{prefix}-output`,
    `{prefix}-status`), `output_scale` times as wide as the controls, and its read-back."""
    first, *readings = first_drawing(draw, inputs)
    with gr.Column(scale=output_scale, min_width=240, elem_classes=["kk-output"]):
        image = gr.Image(first["value"], alt_text=first["alt_text"], label=label, type="filepath", format="png",
                         elem_id=f"{prefix}-output")
        status = status_line(f"{prefix}-status")
    with gr.Column(scale=1, min_width=240):
        labels = label_components(model, readings, prefix, top)
    return image, status, labels


def label_components(model: AttributeModel, opening: list[dict], prefix: str, top: dict[str, int] | None = None
                     ) -> list[gr.Label]:
    """The read-back components (ids `{prefix}-read-{attribute}`), showing the opening drawing's reading."""
    return [gr.Label(update["value"], label=update["label"], num_top_classes=(top or {}).get(name, 3),
                     elem_id=f"{prefix}-read-{name}") for name, update in zip(model.schema, opening)]
