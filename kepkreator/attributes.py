"""GCN inference: attribute choices (one-hot or blended) -> images, and the cooperating classifier's reading.

    model = AttributeModel.from_pretrained("gcn-qmnist")
    vector = model.vector(digit="7", writer={"2578": 0.5, "2359": 0.5}, colour={"red": 1, "blue": 1},
                          transform="rotate 90")
    image = model.generate(vector)[0]            # 3 x 28 x 28 in [0, 1]
    model.read(model.generate(vector))           # {"digit": probs, "writer": probs, ...}
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from kepkreator.batching import batched, for_serving, in_chunks
from kepkreator.handwriting import Style
from kepkreator.validation import InputError, number
from kepkreator.validation import shown as quoted
from kepkreator.hub import load_model, resolve
from kepkreator.models.gcn import AttributeClassifier, AttributeGenerator

Choice = str | int | dict[str, float]


class AttributeModel:
    """A cooperative net ready to draw: attribute choices -> vectors -> images, and the classifier's reading back.

    Load one with `from_pretrained`; build vectors with `vector`, draw them with `generate`, read images with `read`.
    """

    def __init__(self, generator: AttributeGenerator, classifier: AttributeClassifier | None = None,
                 batch_requests: bool = False, reliability: dict[str, float] | None = None, freeze: bool = False,
                 precision: str = "float32"):
        """`reliability`: per attribute, the share of real held-out images the classifier reads right (what
        `python -m kepkreator.evaluate` records as `readback` in metrics.json); empty when not measured.
        `freeze` runs the networks as frozen TorchScript, in `precision` (`kepkreator.batching.for_serving`), as a
        server does."""
        # channels_last runs these convolutions faster on the CPU, as it does the handwriting generator's
        # (`python -m bench.bench`, in-process render, frozen: a face 1.7 -> 1.2 ms, a QMNIST digit 1.2 -> 1.0).
        self.generator = generator.eval().to(memory_format=torch.channels_last)
        self.classifier = (classifier.eval().to(memory_format=torch.channels_last) if classifier is not None
                           else None)
        self.schema = generator.schema
        self.reliability = dict(reliability or {})
        self.licence: Path | None = None  # the terms the weights carry (their LICENSE.md), which exports carry too
        self.blends_learned_from: str | None = None  # what its blends were trained towards, which exports say
        generate = for_serving(self.generator, torch.zeros(2, generator.input_dim), freeze=freeze,
                               precision=precision)
        classify = None if classifier is None else for_serving(
            self.classifier, torch.zeros(2, generator.channels, generator.image_size, generator.image_size),
            freeze=freeze, precision=precision)
        # A server shares one pass among concurrent requests; see kepkreator/batching.py.
        self._generate = batched(generate, batch_requests, "generator")
        self._classify = batched(classify, batch_requests, "classifier")

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, repo_id: str | None = None,
                        batch_requests: bool = False, freeze: bool = False, precision: str = "float32"
                        ) -> "AttributeModel":
        """A saved cooperative net.

        Args:
            name_or_path: a shipped name (`gcn-qmnist`, `gcn-yale`) or a weights folder.
            repo_id: a Hub repo (OWNER/NAME) to read through the Hugging Face cache when no local folder is found.
            batch_requests: merge concurrent callers' forward passes (a server's setting).
            freeze: run the networks as frozen TorchScript (faster per call, slower to load).
            precision: "float32" or "bfloat16".

        Returns:
            The model, its classifier loaded when the folder has one, `licence` set when the weights carry terms.
        """
        folder = resolve(name_or_path, repo_id)
        has_classifier = (folder / "classifier").is_dir()
        classifier = load_model(AttributeClassifier, folder / "classifier") if has_classifier else None
        model = cls(load_model(AttributeGenerator, folder), classifier, batch_requests, recorded_reliability(folder),
                    freeze, precision)
        if (folder / "LICENSE.md").is_file():
            model.licence = folder / "LICENSE.md"
        model.blends_learned_from = recorded_blend_targets(folder)
        return model

    def weights(self, attribute: str, choice: Choice) -> torch.Tensor:
        """One attribute's vector: a value name gives one-hot, {value: weight} a blend normalised to sum 1."""
        values = self.schema[attribute]
        if not isinstance(choice, dict):
            choice = {str(choice): 1.0}
        vector = [0.0] * len(values)  # Python floats: a tensor op per weight holds a server's GIL for nothing
        for value, weight in choice.items():
            value = str(value)
            if value not in values:
                shown = ", ".join(values[:12]) + (" ..." if len(values) > 12 else "")
                raise InputError(f"unknown {attribute} {quoted(value)}: choose one of {shown}")
            try:
                weight = float(weight)
            except (TypeError, ValueError):
                raise InputError(f"{attribute} weight for {quoted(value)} must be a number, "
                                 f"got {quoted(weight)}") from None
            if not math.isfinite(weight) or weight < 0:
                raise InputError(f"{attribute} weight for {quoted(value)} must be zero or more, got {weight}")
            vector[values.index(value)] += weight
        total = sum(vector)
        if total <= 0:
            raise InputError(f"give {attribute} at least one weight above zero")
        return torch.tensor(vector) / total

    def vector(self, **choices: Choice) -> torch.Tensor:
        """The generator's input for one image.

        Args:
            **choices: one entry per attribute of `schema`, each a value name (`digit="7"`), or a dict of value names
                to non-negative weights for a blend (`writer={"2578": 0.5, "2359": 0.5}`), normalised to sum 1.

        Returns:
            float32 tensor of shape (1, input_dim): the attributes' vectors concatenated in schema order, each
            summing to 1. Raises InputError naming a missing, unknown or badly weighted choice.

        Example:
            >>> model.vector(identity={"subject01": 0.5, "subject07": 0.5}, condition="happy", transform="identity")
        """
        missing = [name for name in self.schema if name not in choices]
        extra = [name for name in choices if name not in self.schema]
        if missing or extra:
            raise InputError(f"choose exactly the attributes {', '.join(self.schema)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(extra)}" if extra else ""))
        return torch.cat([self.weights(name, choices[name]) for name in self.schema]).unsqueeze(0)

    @torch.no_grad()
    def generate(self, vectors: torch.Tensor) -> torch.Tensor:
        """Images for attribute vectors.

        Args:
            vectors: float tensor of shape (N, input_dim), rows as `vector` builds them (`torch.cat` several).

        Returns:
            float32 tensor of shape (N, channels, image_size, image_size) with values in [0, 1]: 3 channels and 28
            pixels for QMNIST styles, 1 channel and 64 pixels for the shipped faces.
        """
        return in_chunks(self._generate, vectors)

    @torch.no_grad()
    def read(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """What the cooperating classifier reads in images.

        Args:
            images: float tensor of shape (N, channels, image_size, image_size) in [0, 1], generated or real.

        Returns:
            {attribute: float32 tensor of shape (N, number of values)}, each row probabilities summing to 1, in the
            schema's value order. How far to trust each attribute's reading is in `reliability`.
        """
        if self.classifier is None:
            raise InputError("this model was saved without its cooperating classifier")
        return {name: logits.softmax(dim=1) for name, logits in in_chunks(self._classify, images).items()}


def blend(a: str, b: str, weight_b: float) -> dict[str, float]:
    """The choice of value `b` at `weight_b` over value `a` of one attribute, as `AttributeModel.vector` takes it
    (a and b may be the same value)."""
    weights = {a: 1 - weight_b}
    weights[b] = weights.get(b, 0) + weight_b
    return weights


def ink_colour(red, green, blue) -> dict[str, float]:
    """The colour attribute's weights for an ink of `red`, `green`, `blue` (each 0 to 1, not all 0)."""
    colour = {name: number(name, value, 0, 1) for name, value in (("red", red), ("green", green), ("blue", blue))}
    if sum(colour.values()) <= 0:
        raise InputError("Set at least one of red, green and blue above zero.")
    return colour


def brightness(colour: dict[str, float]) -> float:
    """The factor from the model's ink to the chosen ink. The model draws the hue as a convex mix (weights
    c / sum(c)), so its brightest channel is max(c) / sum(c); multiplying by sum(c) gives back max(c): white ink
    (1, 1, 1) is drawn as a third in each channel and shown white."""
    return sum(colour.values())


def recorded_reliability(folder: Path) -> dict[str, float]:
    """The classifier's recorded accuracy on real held-out images, per attribute ({} when not recorded)."""
    try:
        readback = json.loads((folder / "metrics.json").read_text()).get("readback", {})
        return {str(name): float(share) for name, share in readback.items() if math.isfinite(float(share))}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def recorded_blend_targets(folder: Path) -> str | None:
    """What the generator's blends were trained towards, from its training record (None: no blend term, or no
    record)."""
    try:
        run = json.loads((folder / "training.json").read_text())["run_config"]
        return "pixel mixes of two real images (mixup on the generator's input)" if run.get("mix_weight") else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def describe_choice(choice: Choice) -> str:
    """A choice as a person reads it: '7', or 'red 50% + blue 50%' for a blend (weights normalised)."""
    if not isinstance(choice, dict):
        return str(choice)
    total = sum(float(w) for w in choice.values()) or 1.0
    parts = [(value, float(weight) / total) for value, weight in choice.items() if float(weight) > 0]
    if len(parts) == 1:
        return str(parts[0][0])
    return " + ".join(f"{value} {100 * share:.0f}%" for value, share in parts)


class AttributeGlyphs:
    """A glyph source for the handwriting composer: every character drawn with the same other attributes."""

    def __init__(self, model: AttributeModel, character_attribute: str = "digit", gain: float = 1.0,
                 **fixed: Choice):
        """`gain` multiplies the ink (the styles tab's brightness: a mixed colour is drawn at a third of white)."""
        self.model, self.character_attribute, self.fixed, self.gain = model, character_attribute, fixed, gain
        self.classes = "".join(model.schema[character_attribute])
        self.base = {name: model.weights(name, choice) for name, choice in fixed.items()}

    def draw(self, labels: torch.Tensor, style: Style) -> torch.Tensor:
        vectors = []
        for label in labels.tolist():
            parts = dict(self.base)
            parts[self.character_attribute] = self.model.weights(self.character_attribute, self.classes[label])
            vectors.append(torch.cat([parts[name] for name in self.model.schema]))
        return (self.model.generate(torch.stack(vectors)) * self.gain).clamp(0, 1)
