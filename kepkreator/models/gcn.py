"""Generative Cooperative Net (Xu, Qin & Wan 2017): categorical attributes -> image, any schema.

A schema names the attributes and their values, e.g. {"digit": ["0", ..., "9"],
"writer": [...], "colour": ["red", "green", "blue"], "transform": [...]}. The
generator reads the concatenated attribute vectors; one-hot vectors name a
seen combination and fractional ones blend (0.5 writer A + 0.5 writer B). The
classifier has one head per attribute; during training it reads real images,
and the generator must make images it reads back correctly (the cooperation),
besides reconstructing the real image of each attribute combination.
"""
from __future__ import annotations

import math

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from kepkreator.models.card import MODEL_CARD_TEMPLATE

HUB_KWARGS = dict(library_name="kepkreator", license="mit", model_card_template=MODEL_CARD_TEMPLATE)
Schema = dict[str, list[str]]
# config.json is written with sorted keys, so a schema is stored as [name, values] pairs to keep its order.
SchemaPairs = list[tuple[str, list[str]]]


def base_size(image_size: int) -> tuple[int, int]:
    """(starting side, number of 2x upsamplings) to reach image_size: 28 = 7 x 4, 64 = 8 x 8."""
    for start in (7, 8, 6, 5, 4) if image_size > 0 else ():
        ups = math.log2(image_size / start)
        if ups.is_integer() and ups >= 1:
            return start, int(ups)
    raise ValueError(f"image_size {image_size} is not 4, 5, 6, 7 or 8 times a power of two")


def check_schema(schema: SchemaPairs | Schema) -> Schema:
    """The ordered {attribute: values} of a schema given as pairs (as stored) or as a dict."""
    pairs = list(schema.items()) if isinstance(schema, dict) else [tuple(p) for p in schema]
    if not pairs or any(len(values) < 1 for _, values in pairs):
        raise ValueError("a schema needs at least one attribute, each with at least one value")
    return {str(name): [str(v) for v in values] for name, values in pairs}


class AttributeGenerator(nn.Module, PyTorchModelHubMixin, tags=["generative-cooperative-net"],
                         pipeline_tag="text-to-image", **HUB_KWARGS):
    """Attribute vectors (concatenated in schema order) -> image in [0, 1]."""

    def __init__(self, schema: SchemaPairs, image_size: int = 28, channels: int = 3, width: int = 64):
        super().__init__()
        self.schema = check_schema(schema)
        self.image_size, self.channels = image_size, channels
        self.start, ups = base_size(image_size)
        widths = [max(2 * width // 2 ** i, 16) for i in range(ups + 1)]
        self.project = nn.Sequential(nn.Linear(self.input_dim, widths[0] * self.start ** 2), nn.ReLU())
        blocks = []
        for cin, cout in zip(widths, widths[1:]):
            blocks += [nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        self.body = nn.Sequential(*blocks, nn.Conv2d(widths[-1], channels, 3, padding=1), nn.Sigmoid())
        self.widths = widths

    @property
    def input_dim(self) -> int:
        return sum(len(v) for v in self.schema.values())

    def forward(self, attributes: torch.Tensor) -> torch.Tensor:
        h = self.project(attributes).view(-1, self.widths[0], self.start, self.start)
        return self.body(h)


class AttributeClassifier(nn.Module, PyTorchModelHubMixin, tags=["generative-cooperative-net", "classifier"],
                          pipeline_tag="image-classification", **HUB_KWARGS):
    """Image -> one logit vector per attribute (a dict keyed like the schema)."""

    def __init__(self, schema: SchemaPairs, image_size: int = 28, channels: int = 3, width: int = 32):
        super().__init__()
        self.schema = check_schema(schema)
        self.image_size, self.channels = image_size, channels
        layers, cin, side = [], channels, image_size
        for i in range(max(2, base_size(image_size)[1])):
            cout = width * 2 ** i
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                       nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
            cin, side = cout, side // 2
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * side * side, 256), nn.ReLU(), nn.Dropout(0.2))
        self.heads = nn.ModuleDict({name: nn.Linear(256, len(values)) for name, values in self.schema.items()})

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.body(images)
        return {name: head(h) for name, head in self.heads.items()}
