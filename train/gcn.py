"""Train the Generative Cooperative Net (attributes -> image) or its independent judge.

    python -m train.gcn --dataset qmnist                        # generator + cooperating classifier
    python -m train.gcn --dataset qmnist --classifier-only      # a classifier of real images only, for measuring

Loss for the generator: MSE between its image for a combination and the real
image of that combination, plus `--coop-weight` times the cooperating
classifier's cross-entropy on the generated image. The classifier learns only
from real images. Held-out combinations never reach either network.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.cards import write_card
from kepkreator.data.digits import DataError
from kepkreator.data.faces import KDEF_ANGLES, KDEF_EXPRESSIONS, face_styles, load_faces
from kepkreator.data.styles import AttributeSet, Partners, one_hot_parts, qmnist_styles
from kepkreator.models.gcn import AttributeClassifier, AttributeGenerator, base_size
from train.augment import translate
from train.loop import (Run, add_loop_arguments, cooldown, fail, make_accelerator, schedule_horizon,
                        set_learning_rate)

DATASETS = ("qmnist", "yale", "kdef")
# The attribute a user blends in the app, which --blend-weight teaches the generator to blend.
BLENDED = {"qmnist": "writer", "yale": "identity", "kdef": "identity"}


def load_attribute_set(args: argparse.Namespace) -> AttributeSet:
    if args.dataset == "qmnist":
        return qmnist_styles(args.data_dir, holdout=args.holdout, seed=args.split_seed)
    return face_styles(load_faces(**vars(args)), holdout=args.holdout, seed=args.split_seed)


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """What chooses and splits the images; --dataset and --data-dir come from the caller."""
    parser.add_argument("--holdout", type=float, default=0.1,
                        help="qmnist: share of items that lose a colour (and as many a transform); "
                             "faces: share of (identity, condition) pairs held out")
    parser.add_argument("--split-seed", type=int, default=0,
                        help="which combinations are held out (default 0, the split of the shipped models)")
    parser.add_argument("--image-size", type=int, default=64, help="faces: side of the square crop")
    parser.add_argument("--grey", action="store_true", help="kdef: train on grey images")
    parser.add_argument("--exclude-identities", type=int, default=0,
                        help="faces: leave this many identities out entirely (for the augmentation study)")
    parser.add_argument("--kdef-sessions", nargs="+", default=["A", "B"], choices=["A", "B"])
    parser.add_argument("--kdef-expressions", nargs="+", default=list(KDEF_EXPRESSIONS), choices=list(KDEF_EXPRESSIONS))
    parser.add_argument("--kdef-angles", nargs="+", default=["S"], choices=list(KDEF_ANGLES))


def check_data_arguments(args: argparse.Namespace) -> None:
    if not 0 < args.holdout < 0.5:
        fail(f"--holdout must lie between 0 and 0.5, got {args.holdout}")
    if args.exclude_identities < 0:
        fail(f"--exclude-identities must be 0 or more, got {args.exclude_identities}")
    try:
        if args.image_size > 256:
            raise ValueError(f"image_size {args.image_size} is over 256")
        base_size(args.image_size)  # the sides the generator can draw
    except ValueError as err:
        fail(f"--image-size: {err}; 32, 48, 56 and 64 are fine")


def classification_loss(logits: dict[str, torch.Tensor], attributes: torch.Tensor) -> torch.Tensor:
    return sum(F.cross_entropy(logit, attributes[:, i]) for i, logit in enumerate(logits.values())) / len(logits)


class GCNTask:
    def __init__(self, args: argparse.Namespace, data: AttributeSet, accelerator):
        self.args, self.accelerator, self.schema = args, accelerator, data.schema
        _, channels, size, _ = data.images.shape
        pairs = list(data.schema.items())  # keeps the attribute order through config.json
        self.classifier = AttributeClassifier(pairs, size, channels, args.classifier_width)
        self.c_opt = torch.optim.Adam(self.classifier.parameters(), args.lr)
        self.modules = {"classifier": self.classifier}
        self.opts = {"classifier": self.c_opt}
        if not args.classifier_only:
            self.generator = AttributeGenerator(pairs, size, channels, args.width)
            self.g_opt = torch.optim.Adam(self.generator.parameters(), args.lr)
            self.modules["generator"], self.opts["generator"] = self.generator, self.g_opt
            self.g, self.g_opt_p = accelerator.prepare(self.generator, self.g_opt)
        self.c, self.c_opt_p = accelerator.prepare(self.classifier, self.c_opt)
        if args.mix_weight:
            self.mixes = Partners(data, list(data.schema).index(BLENDED[args.dataset]))
        show = torch.arange(0, len(data), max(1, len(data) // 100))[:100]
        self.sample_attributes = data.one_hot(data.attributes[show])

    def state_modules(self):
        return self.modules

    def optimizers(self):
        return self.opts

    def training_step(self, batch, step):
        set_learning_rate(self.opts.values(), cooldown(self.args.lr, step, self.args.steps, self.args.cooldown))
        images, attributes = batch
        real = images.float() / 255
        c_loss = classification_loss(self.c(translate(real, self.args.shift, fill=None)), attributes)
        self.c_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(c_loss)
        self.c_opt_p.step()
        if self.args.classifier_only:
            return {"classifier": c_loss.item()}

        fake = self.g(torch.cat(one_hot_parts(attributes, self.schema), 1))
        reconstruction = F.mse_loss(fake, real)
        self.c.eval()  # the cooperating classifier reads generated images without learning their statistics
        cooperation = classification_loss(self.c(fake), attributes)
        self.c.train()
        g_loss = reconstruction + self.args.coop_weight * cooperation
        losses = {"classifier": c_loss.item(), "mse": reconstruction.item(), "coop": cooperation.item()}
        if self.args.blend_weight:
            blending = self.blend_cooperation(attributes)
            g_loss = g_loss + self.args.blend_weight * blending
            losses["blend"] = blending.item()
        if self.args.mix_weight:
            mixing = self.mix_reconstruction(real, attributes)
            g_loss = g_loss + self.args.mix_weight * mixing
            losses["mix"] = mixing.item()
        self.g_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_opt_p.step()
        return losses

    def blend_cooperation(self, attributes: torch.Tensor) -> torch.Tensor:
        """Each combination of the batch with its blended attribute mixed, at a random weight, with another
        row's value; the cooperating classifier must read the mix in proportion (a soft target) and the other
        attributes as they are. No real image of a blend exists, so no reconstruction term applies."""
        column = list(self.schema).index(BLENDED[self.args.dataset])
        weight = torch.rand(len(attributes), 1, device=attributes.device)
        partner = attributes[torch.randperm(len(attributes), device=attributes.device), column]
        parts = one_hot_parts(attributes, self.schema)
        size = len(self.schema[BLENDED[self.args.dataset]])
        parts[column] = weight * parts[column] + (1 - weight) * F.one_hot(partner, size).float()
        self.c.eval()
        logits = self.c(self.g(torch.cat(parts, 1)))
        self.c.train()
        return sum(F.cross_entropy(logit, parts[i] if i == column else attributes[:, i])
                   for i, logit in enumerate(logits.values())) / len(logits)

    def mix_reconstruction(self, real: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
        """Each combination of the batch mixed, at a random weight, with a real training image that differs from
        it only in the blended attribute: the generator must draw the same mix of the two images (mixup, Zhang et
        al. 2018, on the generator's input). A pixel mix is only a stand-in for a blend of two people."""
        partner_images, partner_values, found = self.mixes.draw(attributes)
        partner_images = torch.where(found[:, None, None, None], partner_images.to(real.device), real)
        column = self.mixes.column
        weight = torch.rand(len(attributes), 1, device=real.device)
        parts = one_hot_parts(attributes, self.schema)
        parts[column] = weight * parts[column] + (1 - weight) * F.one_hot(partner_values, parts[column].shape[1])
        target = weight[:, :, None, None] * real + (1 - weight[:, :, None, None]) * partner_images
        return F.mse_loss(self.g(torch.cat(parts, 1)), target)

    def sample_images(self):
        if self.args.classifier_only:
            return None
        with torch.no_grad():
            self.generator.eval()
            images = self.generator(self.sample_attributes)
            self.generator.train()
        return images

    def save_model(self, output_dir: Path):
        if self.args.classifier_only:
            self.classifier.eval().save_pretrained(output_dir)
            write_card(self.classifier, output_dir)
            return self.classifier
        self.classifier.eval().save_pretrained(output_dir / "classifier")
        self.generator.eval().save_pretrained(output_dir)
        write_card(self.generator, output_dir)
        return self.generator


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.gcn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="qmnist")
    parser.add_argument("--classifier-only", action="store_true", help="train only a classifier of real images")
    add_data_arguments(parser)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--classifier-width", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--coop-weight", type=float, default=0.05)
    parser.add_argument("--blend-weight", type=float, default=0.0, metavar="W",
                        help="weight of the blend cooperation term: random mixes of the blended attribute (identity; "
                             "writer on qmnist) must be read in proportion by the cooperating classifier (default 0)")
    parser.add_argument("--mix-weight", type=float, default=0.0, metavar="W",
                        help="weight of the mix reconstruction term: pixel mixes of two real images that differ "
                             "only in the blended attribute must be drawn from the mixed vector (default 0)")
    parser.add_argument("--cooldown", type=int, default=0, metavar="N",
                        help="decay the learning rates linearly to zero over the last N steps (default 0: constant)")
    parser.add_argument("--shift", type=int, default=0,
                        help="shift the classifier's real images by up to N pixels (edges repeated), "
                             "against overfitting")
    add_loop_arguments(parser, steps=4000, batch_size=64)
    args = parser.parse_args(argv)
    role = "judge" if args.classifier_only else "gcn"
    args.output_dir = args.output_dir or Path("runs") / f"{role}-{args.dataset}"
    check_data_arguments(args)
    if not 0 <= args.cooldown <= args.steps:
        fail(f"--cooldown must be from 0 to --steps ({args.steps}), got {args.cooldown}")
    for flag in ("blend_weight", "mix_weight"):
        if getattr(args, flag) < 0:
            fail(f"--{flag.replace('_', '-')} must be 0 or more, got {getattr(args, flag)}")
        if getattr(args, flag) and args.classifier_only:
            fail(f"--{flag.replace('_', '-')} trains the generator; --classifier-only trains no generator")
    if not 0 <= args.shift <= 8:
        fail(f"--shift must be from 0 to 8 pixels, got {args.shift}")
    try:
        data = load_attribute_set(args)
    except DataError as err:
        fail(str(err))
    train = data.train.head(args.limit)
    accelerator = make_accelerator()
    torch.manual_seed(args.seed)
    task = GCNTask(args, train, accelerator)
    settings = {**vars(args), "images": len(train), **schedule_horizon(args.steps, decaying=args.cooldown > 0)}
    run = Run(args, accelerator, settings)
    kind = "attribute-judge" if args.classifier_only else "gcn"
    run(task, (train.images, train.attributes), {
        "title": ("Attribute classifier (real images only)" if args.classifier_only else
                  "Generative Cooperative Net") + f": {args.dataset}",
        "kind": kind, "dataset": args.dataset, "images": len(train),
        "command": "python -m train.gcn " + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
        "hyperparameters": {k: getattr(args, k) for k in ("steps", "batch_size", "seed", "holdout", "width",
                                                           "classifier_width", "lr", "coop_weight", "blend_weight",
                                                           "mix_weight", "cooldown", "shift")},
    })


if __name__ == "__main__":
    main()
