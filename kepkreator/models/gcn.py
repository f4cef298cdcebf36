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
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from kepkreator.data.transforms import TRANSFORMS, dihedral
from kepkreator.models.card_template import MODEL_CARD_TEMPLATE
from kepkreator.models.cgan import minibatch_stddev

HUB_KWARGS = dict(library_name="kepkreator", license="mit", model_card_template=MODEL_CARD_TEMPLATE)
Schema = dict[str, list[str]]
# config.json is written with sorted keys, so a schema is stored as [name, values] pairs to keep its order.
SchemaPairs = list[tuple[str, list[str]]]
TRANSFORM = "transform"


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


class ModulatedNorm(nn.Module):
    """Batch norm whose scale and shift come from the attribute vector: the condition reaches every layer, and
    a blended vector blends the modulation (the continuous cousin of class-conditional batch norm)."""

    def __init__(self, channels: int, condition_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale, self.shift = nn.Linear(condition_dim, channels), nn.Linear(condition_dim, channels)
        for layer in (self.scale, self.shift):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        # One multiply-add: on channels-last bfloat16 maps, as served, a multiply and a broadcast add took 4 times
        # as long (a face's pass 1.20 -> 0.91 ms in-process, one thread).
        return torch.addcmul(self.shift(condition)[:, :, None, None], self.norm(x),
                             1 + self.scale(condition)[:, :, None, None])


class ModulatedUpBlock(nn.Module):
    """2x nearest upsampling, then two 3x3 convolutions, each followed by a modulated norm and a ReLU."""

    def __init__(self, cin: int, cout: int, condition_dim: int):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(cin, cout, 3, padding=1), nn.Conv2d(cout, cout, 3, padding=1)
        self.norm1, self.norm2 = ModulatedNorm(cout, condition_dim), ModulatedNorm(cout, condition_dim)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm1(self.conv1(F.interpolate(x, scale_factor=2, mode="nearest")), condition))
        return torch.relu(self.norm2(self.conv2(x), condition))


def apply_transforms(images: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Each image put through the 8 dihedral transforms, mixed by its row of `weights` (N x 8): a one-hot row
    is exactly that transform, a fractional one a pixel mix of transforms."""
    out = torch.zeros_like(images)
    for index in range(len(TRANSFORMS)):  # unused transforms add exact zeros; no branch, so the pass traces whole
        out = out + weights[:, index, None, None, None] * dihedral(images, index)
    return out


class AttributeGenerator(nn.Module, PyTorchModelHubMixin, tags=["generative-cooperative-net"],
                         pipeline_tag="text-to-image", **HUB_KWARGS):
    """Attribute vectors (concatenated in schema order) -> image in [0, 1].

    `modulated` False is the paper's plain stack (the attributes enter once, through a linear projection);
    True also feeds them to every layer through modulated norms, with two convolutions per scale.
    `exact_transform` draws the upright image and applies the "transform" attribute as the exact dihedral
    transform it names, instead of learning to draw 8 orientations: the network's capacity and every training
    image then go to the upright drawing.
    `content` (with `modulated`) splits the attributes into content and style, as in style/content models of
    faces (Tenenbaum & Freeman 2000) and adaptive normalisation (Huang & Belongie 2017): the content attributes
    (a face's identity) alone shape the starting feature map, and the others (its condition) alone modulate the
    layers. A combination never seen in training then meets no interaction the network learned for it alone, and
    a blend of two identities mixes their feature maps, not their pixels.
    `blend_norm` (with `content`) gives a blended content code the norm of the codes it mixes, weighted as they are:
    two people's codes are far from parallel, so their plain 0.5 mix is a shorter code than either's, a strength
    the network never met in training, and it drew a faded face. Rescaled, the mix keeps
    its direction and reaches the network with a person's strength, as interpolating GAN latents along the sphere
    does rather than through its inside (White 2016). A one-hot vector's code is unchanged. A setting of a trained
    model's config.json (`train.gcn --blend-norm` writes it): the training loop builds its generators without it.
    """

    def __init__(self, schema: SchemaPairs, image_size: int = 28, channels: int = 3, width: int = 64,
                 modulated: bool = False, exact_transform: bool = False, content: list[str] | None = None,
                 blend_norm: bool = False):
        super().__init__()
        self.schema = check_schema(schema)
        self.image_size, self.channels = image_size, channels
        self.modulated, self.exact_transform, self.content = modulated, exact_transform, list(content or [])
        if exact_transform and list(self.schema.get(TRANSFORM, [])) != list(TRANSFORMS):
            raise ValueError(f"exact_transform needs a {TRANSFORM!r} attribute with the 8 dihedral transforms")
        read = [name for name in self.schema if not (exact_transform and name == TRANSFORM)]
        style = [name for name in read if name not in self.content]
        if self.content and (not modulated or not style or any(name not in read for name in self.content)):
            raise ValueError(f"content {self.content} must name some, not all, of the attributes the network reads "
                             f"({', '.join(read)}), and needs modulated")
        if blend_norm and not self.content:
            raise ValueError("blend_norm rescales blended content codes: it needs content")
        self.blend_norm = blend_norm
        offsets, position = {}, 0
        for name in read:
            offsets[name] = range(position, position + len(self.schema[name]))
            position += len(self.schema[name])
        self.content_columns = [i for name in (self.content or read) for i in offsets[name]]
        sizes = [len(self.schema[name]) for name in self.content]
        self.content_parts = [(sum(sizes[:k]), sum(sizes[:k + 1])) for k in range(len(sizes))]  # in content_columns
        self.style_columns = [i for name in (style if self.content else read) for i in offsets[name]]
        self.start, ups = base_size(image_size)
        widths = [max(2 * width // 2 ** i, 16) for i in range(ups + 1)]
        self.project = nn.Sequential(nn.Linear(len(self.content_columns), widths[0] * self.start ** 2), nn.ReLU())
        if modulated:
            self.blocks = nn.ModuleList(ModulatedUpBlock(cin, cout, len(self.style_columns))
                                        for cin, cout in zip(widths, widths[1:]))
            self.body = nn.Sequential(nn.Conv2d(widths[-1], channels, 3, padding=1), nn.Sigmoid())
        else:
            blocks = []
            for cin, cout in zip(widths, widths[1:]):
                blocks += [nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                           nn.ReLU()]
            self.body = nn.Sequential(*blocks, nn.Conv2d(widths[-1], channels, 3, padding=1), nn.Sigmoid())
        self.widths = widths

    @property
    def input_dim(self) -> int:
        return sum(len(v) for v in self.schema.values())

    @property
    def condition_dim(self) -> int:
        """The length of the part of the input vector the network reads (all but an exact transform)."""
        return self.input_dim - (len(TRANSFORMS) if self.exact_transform else 0)

    def split(self, attributes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(what the network reads, the transform weights applied exactly or None)."""
        if not self.exact_transform:
            return attributes, None
        names = list(self.schema)
        start = sum(len(self.schema[name]) for name in names[:names.index(TRANSFORM)])
        transform = attributes[:, start:start + len(TRANSFORMS)]
        return torch.cat([attributes[:, :start], attributes[:, start + len(TRANSFORMS):]], 1), transform

    def draw(self, condition: torch.Tensor) -> torch.Tensor:
        """The network's image for the condition vector (upright when the transform is exact)."""
        h = self.project(self.content_code(condition[:, self.content_columns]))
        h = h.view(-1, self.widths[0], self.start, self.start)
        if self.modulated:
            style = condition[:, self.style_columns]
            for block in self.blocks:
                h = block(h, style)
        return self.body(h)

    def content_code(self, content: torch.Tensor) -> torch.Tensor:
        """The content attributes as the projection reads them: themselves, or with `blend_norm` each attribute's
        part scaled so that the projection's weights make of it a code of the weighted mean norm of the mixed values'
        codes."""
        if not self.blend_norm:
            return content
        weights = self.project[0].weight  # out x in: column i is value i's code
        parts = []
        for start, end in self.content_parts:
            part = content[:, start:end]
            gram = weights[:, start:end].T @ weights[:, start:end]  # the codes' dot products: a constant once frozen
            made = ((part @ gram) * part).sum(dim=1).clamp(min=1e-24).sqrt()
            parts.append(part * (part @ gram.diagonal().sqrt() / made)[:, None])
        return torch.cat(parts, dim=1)

    def forward(self, attributes: torch.Tensor) -> torch.Tensor:
        condition, transform = self.split(attributes)
        image = self.draw(condition)
        return image if transform is None else apply_transforms(image, transform)


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


class AttributeDiscriminator(nn.Module):
    """(image, condition vector) -> realness score, higher for real: spectrally normalised strided convolutions
    (Miyato et al. 2018), a minibatch standard-deviation channel, and a projection of the condition vector onto
    the pooled features (Miyato & Koyama 2018), so fractional (blended) vectors are scored as naturally as
    one-hot ones. Used only in training, for the adversarial term; it lives in the training checkpoint."""

    def __init__(self, condition_dim: int, image_size: int, channels: int, width: int = 32):
        super().__init__()
        layers = [spectral_norm(nn.Conv2d(channels, width, 3, padding=1)), nn.LeakyReLU(0.2)]
        cin, side = width, image_size
        while side > 8:
            cout = min(cin * 2, 8 * width)
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            cin, side = cout, side // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(spectral_norm(nn.Conv2d(cin + 1, cin, 3, padding=1)), nn.LeakyReLU(0.2))
        self.score = spectral_norm(nn.Linear(cin, 1))
        self.projection = spectral_norm(nn.Linear(condition_dim, cin, bias=False))

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.head(minibatch_stddev(self.features(images))).sum(dim=(2, 3))
        return self.score(h).squeeze(1) + (self.projection(condition) * h).sum(dim=1)


@dataclass(frozen=True)
class GCNModel:
    """The networks of a cooperative net as train.gcn's flags choose them; recorded in training.json as "model"."""
    width: int = 64  # the generator's
    classifier_width: int = 32
    generator: str = "plain"  # plain | modulated
    content: tuple[str, ...] = ()  # with modulated: the attributes that alone shape the starting map
    exact_transform: bool = False
    d_width: int = 32  # the discriminator's, when there is an adversarial term

    def networks(self, schema: Schema, image_size: int, channels: int, generator: bool = True,
                 discriminator: bool = False) -> dict[str, nn.Module]:
        """{"classifier", and "generator", "discriminator" as asked}: the networks these settings describe."""
        pairs = list(schema.items())  # keeps the attribute order through config.json
        nets: dict[str, nn.Module] = {"classifier": AttributeClassifier(pairs, image_size, channels,
                                                                        self.classifier_width)}
        if generator:
            nets["generator"] = AttributeGenerator(pairs, image_size, channels, self.width,
                                                   modulated=self.generator == "modulated",
                                                   exact_transform=self.exact_transform, content=list(self.content))
            if discriminator:
                nets["discriminator"] = AttributeDiscriminator(nets["generator"].condition_dim, image_size, channels,
                                                               self.d_width)
        return nets
