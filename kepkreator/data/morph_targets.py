"""Morph targets for blends: for pairs of training images that differ only in the blended attribute (two people in
one condition, two writers of one digit in one colour), the optical flows between their upright images, computed
once and cached, so that the morph at any share is two warps and a cross-dissolve (`kepkreator.morphs`).

The cache file is named by a digest of everything the flows depend on (the upright images, their attributes, the
pairs and the flow settings), so changed data gets a file of its own and a stale one is never read; a file that does
not load, or holds other pairs or shapes, is rebuilt with one line in the log.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from kepkreator.data.attribute_sets import AttributeSet
from kepkreator.data.transforms import dihedral
from kepkreator.morphs import FLOW_SETTINGS, cross_dissolve, flow

TRANSFORM = "transform"


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kepkreator" / "morph-flows"


class MorphPartners:
    """For a combination, a partner that differs from it in the blended `column` only, and the morph of the two
    upright images at any share, turned to the combination's transform. Each image is paired with up to
    `partners_per_image` others (all of them when fewer), chosen once with a fixed seed."""

    def __init__(self, data: AttributeSet, column: int, cache_dir: Path, partners_per_image: int = 16,
                 say: Callable[[str], None] = print):
        self.say = say
        names = list(data.schema)
        self.column = column
        self.transform = names.index(TRANSFORM) if TRANSFORM in names else None
        upright_rows = (torch.arange(len(data)) if self.transform is None
                        else (data.attributes[:, self.transform] == 0).nonzero()[:, 0])
        self.keep = [i for i in range(len(names)) if i != self.transform]
        self.images = data.images[upright_rows]
        self.attributes = data.attributes[upright_rows][:, self.keep]
        self.row_of = {tuple(key): i for i, key in enumerate(self.attributes.tolist())}
        self.pairs = self._pairs(partners_per_image)
        self.flows, self.found = self._load_or_compute(Path(cache_dir))
        self.partners_of: list[list[int]] = [[] for _ in range(len(self.images))]
        for index, (first, _) in enumerate(self.pairs.tolist()):
            if self.found[index]:
                self.partners_of[first].append(index)
        self.reverse = {tuple(pair): index for index, pair in enumerate(self.pairs.tolist())}

    def _pairs(self, per_image: int) -> torch.Tensor:
        """Ordered pairs (i, j) of upright rows alike in every attribute but the blended one, both ways round."""
        blended = self.keep.index(self.column)
        others = [i for i in range(self.attributes.shape[1]) if i != blended]
        chosen = set()
        generator = torch.Generator().manual_seed(0)
        for key in self.attributes[:, others].unique(dim=0):
            group = (self.attributes[:, others] == key).all(dim=1).nonzero()[:, 0]
            for i in group.tolist():
                partners = group[self.attributes[group, blended] != self.attributes[i, blended]]
                partners = partners[torch.randperm(len(partners), generator=generator)[:per_image]]
                chosen.update((min(i, j), max(i, j)) for j in partners.tolist())
        one_way = sorted(chosen)
        return torch.tensor(one_way + [(j, i) for i, j in one_way], dtype=torch.long).reshape(-1, 2)

    def _digest(self) -> str:
        digest = hashlib.sha256()
        for tensor in (self.images, self.attributes, self.pairs):
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(tensor.contiguous().numpy().tobytes())
        digest.update(json.dumps(FLOW_SETTINGS, sort_keys=True).encode())
        return digest.hexdigest()[:20]

    def _load_or_compute(self, cache_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
        path = cache_dir / f"flows-{self._digest()}.safetensors"
        _, _, height, width = self.images.shape
        if path.exists():
            try:
                saved = load_file(path)
                flows, found, pairs = saved["flows"], saved["found"], saved["pairs"]
                if flows.shape != (len(self.pairs), 2, height, width) or not torch.equal(pairs, self.pairs) \
                        or found.shape != (len(self.pairs),):
                    raise ValueError("it holds other pairs or shapes")
                self.say(f"morph targets: {int(found.sum()) // 2} pairs of images, their flows read from {path}")
                return flows, found.bool()
            except (OSError, KeyError, ValueError, SafetensorError) as err:
                self.say(f"morph targets: the cache {path} is damaged ({err}); computing it again")
        flows, found = self._compute()
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        save_file({"flows": flows, "found": found, "pairs": self.pairs}, partial,
                  metadata={"flow": json.dumps(FLOW_SETTINGS)})
        partial.replace(path)
        return flows, found

    def _compute(self) -> tuple[torch.Tensor, torch.Tensor]:
        grey = (self.images.float() / 255).mean(dim=1).numpy()
        one_way = len(self.pairs) // 2
        _, _, height, width = self.images.shape
        flows = torch.zeros(len(self.pairs), 2, height, width, dtype=torch.float16)
        found = torch.zeros(len(self.pairs), dtype=torch.bool)
        for index, (i, j) in enumerate(tqdm(self.pairs[:one_way].tolist(), desc="morph flows", unit="pair")):
            there, back = flow(grey[i], grey[j]), flow(grey[j], grey[i])
            if there is None or back is None:
                continue
            # stored at half precision, and read back from it even when just computed: a resumed run that reads
            # the cache sees exactly the flows of the uninterrupted one
            flows[index], flows[index + one_way] = torch.from_numpy(there), torch.from_numpy(back)
            found[index] = found[index + one_way] = True
        skipped = one_way - int(found[:one_way].sum())
        self.say(f"morph targets: {one_way - skipped} pairs of images with flows both ways, {skipped} skipped (a "
                 "blank or constant image has no flow)")
        return flows, found

    def draw(self, attributes: torch.Tensor, partner_share: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For each combination, a random partner and the morph of the two at the partner's share (N values),
        in the combination's transform: (morphs in [0, 1], the partners' values in `column`, which combinations
        have a partner with a flow; one without gets its own image and keeps its own value)."""
        rows = attributes.cpu()
        picks = []
        for row in rows:
            own = self.row_of.get(tuple(row[self.keep].tolist()))
            options = self.partners_of[own] if own is not None else []
            picks.append(options[torch.randint(len(options), ()).item()] if options else -1)
        picks = torch.tensor(picks)
        found = picks >= 0
        if not found.any():
            _, channels, height, width = self.images.shape
            blank = torch.zeros(len(rows), channels, height, width, device=attributes.device)
            return blank, attributes[:, self.column], found.to(attributes.device)
        index = picks.clamp(min=0)
        first, second = self.pairs[index, 0], self.pairs[index, 1]
        back = torch.tensor([self.reverse[(j, i)] for i, j in zip(first.tolist(), second.tolist())])
        a, b = self.images[first].float() / 255, self.images[second].float() / 255
        made = cross_dissolve(a, b, self.flows[index].float(), self.flows[back].float(), partner_share.cpu())
        if self.transform is not None:
            for transform in rows[:, self.transform].unique().tolist():
                chosen = rows[:, self.transform] == transform
                made[chosen] = dihedral(made[chosen], transform)
        values = torch.where(found, self.attributes[second, self.keep.index(self.column)], rows[:, self.column])
        return made.to(attributes.device), values.to(attributes.device), found.to(attributes.device)
