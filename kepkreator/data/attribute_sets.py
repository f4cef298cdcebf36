"""Attribute-labelled image sets, whatever the attributes: the data side of the Generative Cooperative Net.

An AttributeSet holds images with one value index per attribute and a split (0 = trained on). The generator reads
attributes as vectors: one-hot for a value, a mix of two one-hots for a blend (`mix`), which every caller builds
the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AttributeSet:
    """Images (N x C x H x W, uint8) with one value index per attribute (N x attributes) and a split (0: trained on)."""
    images: torch.Tensor  # uint8, N x C x H x W
    attributes: torch.Tensor  # int64, N x len(schema): one value index per attribute, in schema order
    schema: dict[str, list[str]]
    split: torch.Tensor  # int64, N: index into split_names (0 = a combination trained on)
    split_names: tuple[str, ...] = ("train", "held out")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: torch.Tensor) -> "AttributeSet":
        return AttributeSet(self.images[index], self.attributes[index], self.schema, self.split[index],
                            self.split_names)

    def head(self, count: int | None) -> "AttributeSet":
        return self if count is None else self.subset(torch.arange(min(count, len(self))))

    @property
    def train(self) -> "AttributeSet":
        return self.subset(self.split == 0)

    @property
    def held_out(self) -> "AttributeSet":
        return self.subset(self.split != 0)

    @property
    def upright(self) -> "AttributeSet":
        """The items drawn in the first transform (identity): upright and unflipped."""
        return self.subset(self.attributes[:, list(self.schema).index("transform")] == 0)

    def one_hot(self, attributes: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenated one-hot vectors, the generator's input."""
        return torch.cat(one_hot_parts(self.attributes if attributes is None else attributes, self.schema), dim=1)


def one_hot_parts(attributes: torch.Tensor, schema: dict[str, list[str]]) -> list[torch.Tensor]:
    """One float one-hot block per attribute (value indices N x len(schema)); concatenated, the generator's input."""
    return [torch.nn.functional.one_hot(attributes[:, i], len(values)).float()
            for i, values in enumerate(schema.values())]


class Partners:
    """For a combination, a random real image of the set that differs from it in one attribute only (another
    person in the same condition and transform, say): what a blend of that attribute can be compared with."""

    def __init__(self, data: AttributeSet, column: int):
        self.images, self.attributes, self.column = data.images, data.attributes, column
        self.others = [i for i in range(data.attributes.shape[1]) if i != column]
        keys = data.attributes[:, self.others]
        self.groups = {tuple(key.tolist()): (keys == key).all(dim=1).nonzero()[:, 0] for key in keys.unique(dim=0)}

    def draw(self, attributes: torch.Tensor, generator: torch.Generator | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Partner images in [0, 1], their values in `column`, and which combinations have a partner at all
        (one without keeps its own value)."""
        picks = []
        for row in attributes.cpu():
            group = self.groups.get(tuple(row[self.others].tolist()))
            group = group[self.attributes[group, self.column] != row[self.column]] if group is not None else []
            picks.append(group[torch.randint(len(group), (), generator=generator)].item() if len(group) else -1)
        found = torch.tensor(picks) >= 0
        index = torch.tensor(picks).clamp(min=0)
        values = torch.where(found, self.attributes[index, self.column], attributes.cpu()[:, self.column])
        return self.images[index].float() / 255, values.to(attributes.device), found.to(attributes.device)


def two_values(count: int, size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` random pairs of different values of an attribute with `size` values (a, b never equal)."""
    a = torch.randint(0, size, (count,), generator=generator)
    return a, (a + torch.randint(1, size, (count,), generator=generator)) % size


def mix(a: torch.Tensor, b: torch.Tensor, weight_b: torch.Tensor | float, size: int) -> torch.Tensor:
    """N x size blends of value indices a and b: (1 - w) one-hot(a) + w one-hot(b); w a number or an N x 1 tensor."""
    return (1 - weight_b) * F.one_hot(a, size).float() + weight_b * F.one_hot(b, size).float()
