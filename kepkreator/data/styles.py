"""Attribute-labelled image sets for the Generative Cooperative Net.

QMNIST styles, as in the paper's QMNIST experiment: the writers who wrote all
ten digits, one digit per (writer, class), each put into red, green and blue
and through the 8 dihedral transforms. Some (writer, digit) items lose one
colour and others one transform from training, so generating combinations
never seen can be measured.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from kepkreator.data.digits import load_qmnist_test
from kepkreator.data.transforms import COLOURS, TRANSFORMS, colourise, dihedral

SPLITS = ("train", "unseen colour", "unseen transform")


@dataclass
class AttributeSet:
    images: torch.Tensor  # uint8, N x C x H x W
    attributes: torch.Tensor  # int64, N x len(schema): one value index per attribute, in schema order
    schema: dict[str, list[str]]
    split: torch.Tensor  # int64, N: index into split_names (0 = a combination trained on)
    split_names: tuple[str, ...] = SPLITS

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


def complete_writer_digits(root: Path | str | None = None) -> tuple[torch.Tensor, list[int]]:
    """One grey image per (writer, digit) for the writers who wrote all ten: (W x 10 x 28 x 28 uint8, writer ids)."""
    data = load_qmnist_test(root)
    first: dict[tuple[int, int], int] = {}
    for index, key in enumerate(zip(data.writers.tolist(), data.labels.tolist())):
        first.setdefault(key, index)  # the first image, in file order
    digits_of: dict[int, int] = {}
    for writer, _ in first:
        digits_of[writer] = digits_of.get(writer, 0) + 1
    writers = sorted(w for w, count in digits_of.items() if count == 10)
    index = torch.tensor([[first[(w, d)] for d in range(10)] for w in writers])
    images = data.images[index]
    return images, writers


def qmnist_styles(root: Path | str | None = None, holdout: float = 0.1, seed: int = 0) -> AttributeSet:
    """Every (writer, digit, colour, transform) combination; `holdout` of the (writer, digit) items lose one
    colour and as many lose one transform from training."""
    grey, writers = complete_writer_digits(root)
    n_items = grey.shape[0] * 10
    grey = grey.view(n_items, 28, 28).float() / 255
    item_writer = torch.arange(len(writers)).repeat_interleave(10)
    item_digit = torch.arange(10).repeat(len(writers))

    rng = torch.Generator().manual_seed(seed)
    order = torch.randperm(n_items, generator=rng)
    k = round(holdout * n_items)
    lost_colour = torch.full((n_items,), -1)
    lost_colour[order[:k]] = torch.randint(0, len(COLOURS), (k,), generator=rng)
    lost_transform = torch.full((n_items,), -1)
    lost_transform[order[k:2 * k]] = torch.randint(0, len(TRANSFORMS), (k,), generator=rng)

    images, attributes, split = [], [], []
    for c in range(len(COLOURS)):
        coloured = colourise(grey, torch.nn.functional.one_hot(torch.tensor(c), 3).float())
        for t in range(len(TRANSFORMS)):
            images.append((dihedral(coloured, t) * 255).round().to(torch.uint8))
            attributes.append(torch.stack([item_digit, item_writer, torch.full_like(item_digit, c),
                                           torch.full_like(item_digit, t)], dim=1))
            split.append(torch.where(lost_colour == c, 1, torch.where(lost_transform == t, 2, 0)))
    schema = {"digit": [str(d) for d in range(10)], "writer": [str(w) for w in writers],
              "colour": list(COLOURS), "transform": list(TRANSFORMS)}
    return AttributeSet(torch.cat(images), torch.cat(attributes), schema, torch.cat(split))
