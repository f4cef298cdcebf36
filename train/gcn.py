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
import json
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.cards import write_card
from kepkreator.data.digits import DataError
from kepkreator.data.faces import KDEF_ANGLES, KDEF_EXPRESSIONS
from kepkreator.data.settings import from_flags, record
from kepkreator.data.attributes import AttributeSet, Partners, mix, one_hot_parts
from kepkreator.data.transforms import upright
from kepkreator.models.gcn import TRANSFORM, GCNModel, base_size
from train.diffaugment import cutout, translate
from train.ema import MovingAverage, add_average_arguments, check_average_arguments
from train.recipes import use_recipe
from train.loop import (Run, add_loop_arguments, command_line, cooldown, fail, make_accelerator, schedule_horizon,
                        set_learning_rate)

DATASETS = ("qmnist", "yale", "kdef")
# The attribute a user blends in the app, which --blend-weight teaches the generator to blend.
BLENDED = {"qmnist": "writer", "yale": "identity", "kdef": "identity"}
COLOUR = "colour"  # an attribute whose values are the image channels, which --colour-mixes mixes


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


def classification_loss(logits: dict[str, torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over the attributes; each target is N x values probabilities (one-hot or a mix)."""
    return sum(F.cross_entropy(logit, target) for logit, target in zip(logits.values(), targets)) / len(logits)


def model_settings(args: argparse.Namespace) -> GCNModel:
    return GCNModel(args.width, args.classifier_width, args.generator, tuple(args.content or ()), args.exact_transform,
                    args.d_width, args.interaction_rank, args.style_map)


def colours_seen(data: AttributeSet, column: int) -> torch.Tensor:
    """digits x writers x colours: which colours each (digit, writer) item has in `data` (qmnist's schema order)."""
    sizes = [len(values) for values in data.schema.values()]
    seen = torch.zeros(sizes[0], sizes[1], sizes[column])
    seen[data.attributes[:, 0], data.attributes[:, 1], data.attributes[:, column]] = 1
    return seen


class GCNTask:
    def __init__(self, args: argparse.Namespace, data: AttributeSet, accelerator):
        self.args, self.accelerator, self.schema = args, accelerator, data.schema
        _, channels, size, _ = data.images.shape
        self.colour = list(data.schema).index(COLOUR) if args.colour_mixes else None
        if self.colour is not None:
            self.colours_seen = colours_seen(data, self.colour)
        self.modules = model_settings(args).networks(data.schema, size, channels, not args.classifier_only,
                                                     bool(args.adversarial_weight))
        self.classifier = self.modules["classifier"]
        if not args.classifier_only:
            self.generator = self.modules["generator"]
            self.generator.blend_norm = args.train_normed_blends
        for module in self.modules.values():
            module.to(memory_format=torch.channels_last)  # about a third faster for these convolutions on a CPU
        betas = {"classifier": (0.9, 0.999)}  # --beta1 is for the two players of the game; the classifier keeps Adam's
        learning_rates = {"discriminator": args.lr_d}
        self.opts = {name: torch.optim.Adam(module.parameters(), learning_rates.get(name, args.lr),
                                            betas=betas.get(name, (args.beta1, 0.999)))
                     for name, module in self.modules.items()}
        prepared = {name: accelerator.prepare(module, self.opts[name]) for name, module in self.modules.items()}
        self.c, self.c_opt_p = prepared["classifier"]
        if "generator" in prepared:
            self.g, self.g_opt_p = prepared["generator"]
            self.average = MovingAverage(self.generator, args.ema_decay)  # made where prepare put the generator
        if "discriminator" in prepared:
            self.d, self.d_opt_p = prepared["discriminator"]
        if args.mix_weight:
            self.mixes = Partners(data, list(data.schema).index(BLENDED[args.dataset]))
        show = torch.arange(0, len(data), max(1, len(data) // 100))[:100]
        self.sample_attributes = data.one_hot(data.attributes[show])

    def state_modules(self):
        return self.modules if self.args.classifier_only else {**self.modules, "ema": self.average.average}

    def optimizers(self):
        return self.opts

    def training_step(self, batch, step):
        for name, optimizer in self.opts.items():
            base = self.args.lr_d if name == "discriminator" else self.args.lr
            set_learning_rate([optimizer], cooldown(base, step, self.args.steps, self.args.cooldown))
        images, attributes = batch
        real, targets = images.float() / 255, one_hot_parts(attributes, self.schema)
        if self.colour is not None:
            real, targets = self.mix_colours(real, attributes, targets)
        c_loss = classification_loss(self.c(translate(real, self.args.shift, fill=None)), targets)
        self.c_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(c_loss)
        self.c_opt_p.step()
        if self.args.classifier_only:
            return {"classifier": c_loss.item()}

        fake = self.g(torch.cat(targets, 1))
        reconstruction = F.mse_loss(fake, real)
        cooperation = self.cooperation(fake, targets)
        g_loss = reconstruction + self.args.coop_weight * cooperation
        losses = {"classifier": c_loss.item(), "mse": reconstruction.item(), "coop": cooperation.item()}
        if self.args.adversarial_weight:
            adversarial, losses["d"] = self.adversarial_terms(real, attributes, targets)
            g_loss = g_loss + self.args.adversarial_weight * adversarial
            losses["adv"] = adversarial.item()
        drawn = []  # (images, conditions) of combinations no real image shows, which --d-learns-unseen teaches D
        if self.args.unseen_weight:
            unseen, *unseen_drawn = self.unseen_combinations(targets)
            g_loss = g_loss + self.args.unseen_weight * unseen
            losses["unseen"] = unseen.item()
            drawn.append(unseen_drawn)
        if self.args.blend_weight:
            blending = self.blend_cooperation(attributes)
            g_loss = g_loss + self.args.blend_weight * blending
            losses["blend"] = blending.item()
        if self.args.mix_weight:
            mixing, blends, vectors = self.mix_reconstruction(real, attributes)
            g_loss = g_loss + self.args.mix_weight * mixing
            losses["mix"] = mixing.item()
            if self.args.adversarial_blend_weight:
                realism, *judged_blends = self.blend_realism(blends, attributes, vectors)
                g_loss = g_loss + self.args.adversarial_blend_weight * realism
                losses["adv_blend"] = realism.item()
                drawn.append(judged_blends)
        self.g_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_opt_p.step()
        self.average.update()
        if self.args.d_learns_unseen:
            losses["d_unseen"] = self.discriminator_step_on_drawn(real, attributes, targets, drawn)
        return losses

    def cooperation(self, fake: torch.Tensor, targets: list[torch.Tensor]) -> torch.Tensor:
        self.c.eval()  # the cooperating classifier reads generated images without learning their statistics
        loss = classification_loss(self.c(fake), targets)
        self.c.train()
        return loss

    def mix_colours(self, real: torch.Tensor, attributes: torch.Tensor, targets: list[torch.Tensor]
                    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """A `--colour-mixes` share of the rows recoloured with a random convex mix of red, green and blue. A
        pure-colour image holds its grey ink in one channel, so the mixed image is known exactly: that ink
        spread over the channels by the mix's weights."""
        rows = torch.rand(len(real), device=real.device) < self.args.colour_mixes
        weights = torch.distributions.Dirichlet(torch.ones(real.shape[1])).sample((len(real),)).to(real.device)
        # A colour held out for an item stays out of its mixes too, so the held-out combinations stay unseen.
        weights = weights * self.colours_seen[attributes[:, 0], attributes[:, 1]].to(real.device)
        weights = weights / weights.sum(dim=1, keepdim=True)
        ink = real.amax(dim=1, keepdim=True)
        real = torch.where(rows[:, None, None, None], ink * weights[:, :, None, None], real)
        targets = list(targets)
        targets[self.colour] = torch.where(rows[:, None], weights, targets[self.colour])
        return real, targets

    def adversarial_terms(self, real: torch.Tensor, attributes: torch.Tensor, targets: list[torch.Tensor]
                          ) -> tuple[torch.Tensor, float]:
        """One discriminator step (hinge loss; the batch's real images against the generator's images of the same
        combinations, both through DiffAugment), then the generator's adversarial loss on those images. Real and
        generated sides share their conditions, as in any conditional GAN: a condition only one side shows (a
        held-out combination, a blend) would let the discriminator tell them apart by the condition alone and
        teach the generator to draw such conditions as the ones it has seen. With an exact transform both sides
        are judged upright."""
        real, vectors = self.as_judged(real, attributes, targets)
        condition, _ = self.generator.split(vectors)
        fake = self.g(vectors)
        d_loss = self.discriminator_step(real, condition, fake.detach(), condition)
        return -self.d(self.d_augment(fake), condition).mean(), d_loss

    def as_judged(self, real: torch.Tensor, attributes: torch.Tensor, targets: list[torch.Tensor]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the real images, their attribute vectors) as the discriminator judges them: upright, with the upright
        transform, when the transform is exact."""
        if self.generator.exact_transform:
            column = list(self.schema).index(TRANSFORM)
            real = upright(real, attributes[:, column])
            targets = list(targets)
            targets[column] = torch.zeros_like(targets[column])
            targets[column][:, 0] = 1
        return real, torch.cat(targets, 1)

    def discriminator_step(self, real: torch.Tensor, real_condition: torch.Tensor, fake: torch.Tensor,
                           fake_condition: torch.Tensor, weight: float = 1.0) -> float:
        """One hinge-loss step of the discriminator, both sides through DiffAugment, its loss times `weight`;
        returns the loss."""
        scores_real = self.d(self.d_augment(real), real_condition)
        scores_fake = self.d(self.d_augment(fake), fake_condition)
        d_loss = F.relu(1 - scores_real).mean() + F.relu(1 + scores_fake).mean()
        self.d_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(weight * d_loss)
        self.d_opt_p.step()
        return d_loss.item()

    def discriminator_step_on_drawn(self, real: torch.Tensor, attributes: torch.Tensor, targets: list[torch.Tensor],
                                    drawn: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
        """--d-learns-unseen: a second discriminator step, after the generator's, with the batch's real images
        against the step's drawings of combinations no real image shows (unseen pairs, blends), so that it learns
        to refuse the blotches that fooled it while it only judged them. It does, and it also learns to refuse the
        pairs themselves: the features its condition is projected on carry the identity, and the generator then
        draws an unseen pair as the person's usual face (docs/cooperative-nets.md, "Tried and left off").
        `--d-unseen-weight` scales this step's loss; with `--d-unseen-unconditional` both sides are scored without
        their condition vectors, so the step can only teach what a real face looks like, not which pairs are real."""
        real, vectors = self.as_judged(real, attributes, targets)
        condition, _ = self.generator.split(vectors)
        images, conditions = (torch.cat(parts) for parts in zip(*drawn))
        if self.args.d_unseen_unconditional:
            condition, conditions = torch.zeros_like(condition), torch.zeros_like(conditions)
        return self.discriminator_step(real, condition, images.detach(), conditions, self.args.d_unseen_weight)

    def unseen_combinations(self, targets: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each row's content (a face's identity) drawn with another row's style attributes (its condition),
        upright: mostly combinations no real image shows, held-out ones among them. No image is there to
        reconstruct, so they get the terms that need none, as the batch's own images do: the cooperating
        classifier must read the combination, and the discriminator judges it but never learns from it (it would
        learn to refuse combinations it has no real image of). Returns the loss, the drawings and their condition
        vectors."""
        names = list(self.schema)
        order = torch.randperm(len(targets[0]), device=targets[0].device)
        moved = [name not in self.generator.content and not (self.generator.exact_transform and name == TRANSFORM)
                 for name in names]  # the style attributes, as the generator splits them
        parts = [part[order] if move else part for move, part in zip(moved, targets)]
        if self.generator.exact_transform:
            column = names.index(TRANSFORM)
            parts[column] = torch.zeros_like(parts[column])
            parts[column][:, 0] = 1
        vectors = torch.cat(parts, 1)
        drawn = self.g(vectors)
        condition, _ = self.generator.split(vectors)
        loss = self.args.coop_weight * self.cooperation(drawn, parts)
        if self.args.adversarial_weight:
            loss = loss - self.args.adversarial_weight * self.d(self.d_augment(drawn), condition).mean()
        return loss, drawn, condition

    def d_augment(self, images: torch.Tensor) -> torch.Tensor:
        """DiffAugment for what the discriminator sees: photographs repeat their edges when shifted and get a grey
        hole; digits sit on black."""
        photo = self.args.dataset != "qmnist"
        images = translate(images, self.args.d_shift, fill=None if photo else 0.0)
        return cutout(images, 0.5, 0.5 if photo else 0.0) if self.args.d_cutout else images

    def blend_cooperation(self, attributes: torch.Tensor) -> torch.Tensor:
        """Each combination of the batch with its blended attribute mixed, at a random weight, with another
        row's value; the cooperating classifier must read the mix in proportion (a soft target) and the other
        attributes as they are. No real image of a blend exists, so no reconstruction term applies."""
        column = list(self.schema).index(BLENDED[self.args.dataset])
        weight = torch.rand(len(attributes), 1, device=attributes.device)
        partner = attributes[torch.randperm(len(attributes), device=attributes.device), column]
        parts = one_hot_parts(attributes, self.schema)
        parts[column] = mix(partner, attributes[:, column], weight, len(self.schema[BLENDED[self.args.dataset]]))
        self.c.eval()
        logits = self.c(self.g(torch.cat(parts, 1)))
        self.c.train()
        return sum(F.cross_entropy(logit, parts[i] if i == column else attributes[:, i])
                   for i, logit in enumerate(logits.values())) / len(logits)

    def mix_reconstruction(self, real: torch.Tensor, attributes: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each combination of the batch mixed, at a random weight, with a real training image that differs from
        it only in the blended attribute: the generator must draw the same mix of the two images (mixup, Zhang et
        al. 2018, on the generator's input). A pixel mix is only a stand-in for a blend of two people.
        Returns the loss, the generator's blends and their attribute vectors."""
        partner_images, partner_values, found = self.mixes.draw(attributes)
        partner_images = torch.where(found[:, None, None, None], partner_images.to(real.device), real)
        column = self.mixes.column
        weight = torch.rand(len(attributes), 1, device=real.device)
        if self.args.mix_even:  # drawn only when asked, so runs without it keep their random stream
            even = torch.rand(len(attributes), 1, device=real.device) < self.args.mix_even
            weight = torch.where(even, torch.full_like(weight, 0.5), weight)
        parts = one_hot_parts(attributes, self.schema)
        parts[column] = mix(partner_values, attributes[:, column], weight, parts[column].shape[1])
        target = weight[:, :, None, None] * real + (1 - weight[:, :, None, None]) * partner_images
        vectors = torch.cat(parts, 1)
        blends = self.g(vectors)
        return F.mse_loss(blends, target), blends, vectors

    def blend_realism(self, blends: torch.Tensor, attributes: torch.Tensor, vectors: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The generator's adversarial loss on its blends, which the discriminator judges as it judges the batch's
        own images (upright when the transform is exact) but never learns from: no real image of a blend exists,
        so a discriminator shown blends as fakes would learn to refuse the blended condition itself. The pixel-mix
        target alone gives blends a double-exposed look; this pulls them toward a face. Returns the loss, and the
        blends and condition vectors the discriminator judged."""
        condition, _ = self.generator.split(vectors)
        if self.generator.exact_transform:
            blends = upright(blends, attributes[:, list(self.schema).index(TRANSFORM)])
        return -self.d(self.d_augment(blends), condition).mean(), blends, condition

    def saved_generator(self):
        return self.average.average if self.args.save_generator == "ema" else self.generator

    def sample_images(self):
        if self.args.classifier_only:
            return None
        generator = self.saved_generator()
        was_training = generator.training
        with torch.no_grad():
            images = generator.eval()(self.sample_attributes)
        generator.train(was_training)
        return images

    def save_model(self, output_dir: Path):
        for module in self.state_modules().values():
            module.to(memory_format=torch.contiguous_format)  # safetensors stores contiguous tensors
        if self.args.classifier_only:
            self.classifier.eval().save_pretrained(output_dir)
            write_card(self.classifier, output_dir)
            return self.classifier
        self.classifier.eval().save_pretrained(output_dir / "classifier")
        generator = self.saved_generator()
        generator.eval().save_pretrained(output_dir)
        if self.args.blend_norm:
            draw_blends_normed(output_dir)
        write_card(generator, output_dir)
        return generator


def draw_blends_normed(model_dir: Path) -> None:
    """Turn on `blend_norm` in a saved generator's config.json. It is a drawing setting: the loop trains on the
    plain mixes (unless --train-normed-blends), and the saved model draws blends at the length of the codes it mixes."""
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text())
    config["blend_norm"] = True
    config_path.write_text(json.dumps(config, sort_keys=True, indent=2))


# The flags that work on the --content/style split of the generator's input, and what each does with it.
NEEDS_CONTENT = {"unseen_weight": "draws each --content with other rows' style attributes",
                 "interaction_rank": "multiplies --content factors with style factors",
                 "style_map": "adds the style attributes' map to the --content attributes' starting map",
                 "blend_norm": "rescales blended --content codes"}


def check_gcn_arguments(args: argparse.Namespace) -> None:
    """Every model and loss flag checked before any data is read; fills in --d-shift's default."""
    if not 0 <= args.cooldown <= args.steps:
        fail(f"--cooldown must be from 0 to --steps ({args.steps}), got {args.cooldown}")
    check_average_arguments(args)
    if args.classifier_only and args.save_generator != "raw":
        fail("--save-generator chooses which generator to save; --classifier-only trains no generator")
    generator_flags = {"unseen_weight": 0.0, "blend_weight": 0.0, "mix_weight": 0.0,
                       "mix_even": 0.0, "adversarial_weight": 0.0, "adversarial_blend_weight": 0.0, "colour_mixes": 0.0,
                       "exact_transform": False, "generator": "plain", "content": None, "blend_norm": False,
                       "interaction_rank": 0, "style_map": False,
                       "d_learns_unseen": False, "train_normed_blends": False}
    for flag, off in generator_flags.items():
        value = getattr(args, flag)
        if isinstance(value, float) and value < 0:
            fail(f"--{flag.replace('_', '-')} must be 0 or more, got {value}")
        if value != off and args.classifier_only and flag != "colour_mixes":
            fail(f"--{flag.replace('_', '-')} trains the generator; --classifier-only trains no generator")
    if args.adversarial_blend_weight and not (args.adversarial_weight and args.mix_weight):
        fail("--adversarial-blend-weight judges the --mix-weight term's blends with the --adversarial-weight term's "
             "discriminator: it needs both")
    if args.d_learns_unseen and not (args.adversarial_weight and (args.unseen_weight or args.adversarial_blend_weight)):
        fail("--d-learns-unseen teaches the --adversarial-weight term's discriminator the drawings of --unseen-weight "
             "or --adversarial-blend-weight: it needs the first and one of the others")
    if (args.d_unseen_weight != 1 or args.d_unseen_unconditional) and not args.d_learns_unseen:
        fail("--d-unseen-weight and --d-unseen-unconditional change the --d-learns-unseen step: they need it")
    if not 0 < args.d_unseen_weight <= 10:
        fail(f"--d-unseen-weight must be above 0 and at most 10, got {args.d_unseen_weight}")
    if not 0 <= args.interaction_rank <= 64:
        fail(f"--interaction-rank must be from 0 to 64, got {args.interaction_rank}")
    for flag, what_it_does in NEEDS_CONTENT.items():
        if getattr(args, flag) and not args.content:
            fail(f"--{flag.replace('_', '-')} {what_it_does}: it needs --content")
    if args.train_normed_blends and not args.blend_norm:
        fail("--train-normed-blends trains on the blends --blend-norm draws: it needs --blend-norm")
    if args.content and args.generator != "modulated":
        fail("--content splits what the layers read: it needs --generator modulated")
    if args.mix_even > 1:
        fail(f"--mix-even is a share of the mix term's blends, from 0 to 1, got {args.mix_even}")
    if args.mix_even and not args.mix_weight:
        fail("--mix-even chooses the weights of the --mix-weight term's blends: it needs --mix-weight")
    if args.colour_mixes > 1:
        fail(f"--colour-mixes is a share of the images, from 0 to 1, got {args.colour_mixes}")
    if args.colour_mixes and args.dataset != "qmnist":
        fail(f"--colour-mixes mixes red, green and blue ink: only qmnist has a colour attribute, not {args.dataset}")
    for flag in ("width", "classifier_width", "d_width"):
        if not 4 <= getattr(args, flag) <= 512:
            fail(f"--{flag.replace('_', '-')} must be from 4 to 512, got {getattr(args, flag)}")
    for flag in ("lr", "lr_d"):
        if not 0 < getattr(args, flag) <= 1:
            fail(f"--{flag.replace('_', '-')} must be above 0 and at most 1, got {getattr(args, flag)}")
    if not 0 <= args.beta1 < 1:
        fail(f"--beta1 must be from 0 to below 1, got {args.beta1}")
    if not 0 <= args.shift <= 8:
        fail(f"--shift must be from 0 to 8 pixels, got {args.shift}")
    side = 28 if args.dataset == "qmnist" else args.image_size
    if args.d_shift is None:
        args.d_shift = round(side / 8)
    if not 0 <= args.d_shift <= side // 4:
        fail(f"--d-shift must be from 0 to a quarter of the image side ({side // 4} pixels), got {args.d_shift}")


HYPERPARAMETERS = ("steps", "batch_size", "seed", "holdout", "width", "classifier_width", "lr", "coop_weight",
                   "unseen_weight", "blend_weight", "mix_weight", "mix_even", "cooldown", "shift", "generator",
                   "exact_transform", "beta1", "adversarial_weight", "lr_d", "adversarial_blend_weight", "d_width",
                   "d_shift", "d_cutout", "colour_mixes", "blend_norm", "d_learns_unseen", "d_unseen_weight",
                   "d_unseen_unconditional", "interaction_rank", "style_map",
                   "train_normed_blends", "ema_decay", "save_generator")  # written on the model card


def parse_arguments(argv) -> argparse.Namespace:
    """The checked settings a `python -m train.gcn` command line trains with (a recipe's, changed by flags)."""
    parser = argparse.ArgumentParser(prog="python -m train.gcn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="qmnist")
    parser.add_argument("--classifier-only", action="store_true", help="train only a classifier of real images")
    add_data_arguments(parser)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--classifier-width", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--coop-weight", type=float, default=0.05)
    parser.add_argument("--unseen-weight", type=float, default=0.0, metavar="W",
                        help="with --content: each row's content drawn with another row's style attributes (unseen "
                             "combinations among them) gets the cooperation and adversarial terms, times W; the "
                             "discriminator never learns from these images (default 0: off)")
    parser.add_argument("--blend-weight", type=float, default=0.0, metavar="W",
                        help="weight of the blend cooperation term: random mixes of the blended attribute (identity; "
                             "writer on qmnist) must be read in proportion by the cooperating classifier (default 0)")
    parser.add_argument("--mix-weight", type=float, default=0.0, metavar="W",
                        help="weight of the mix reconstruction term: pixel mixes of two real images that differ "
                             "only in the blended attribute must be drawn from the mixed vector (default 0)")
    parser.add_argument("--mix-even", type=float, default=0.0, metavar="SHARE",
                        help="share of the mix term's blends made half and half, the app's opening blend; the rest "
                             "at uniform random weights (default 0)")
    parser.add_argument("--cooldown", type=int, default=0, metavar="N",
                        help="decay the learning rates linearly to zero over the last N steps (default 0: constant)")
    parser.add_argument("--shift", type=int, default=0,
                        help="shift the classifier's real images by up to N pixels (edges repeated), "
                             "against overfitting")
    parser.add_argument("--generator", choices=["plain", "modulated"], default="plain",
                        help="plain: the paper's stack, the attributes enter once; modulated: they also modulate "
                             "every layer, two convolutions per scale (default plain)")
    parser.add_argument("--content", nargs="+", default=None, metavar="ATTRIBUTE",
                        help="modulated: the attributes that alone shape the starting feature map (faces: identity); "
                             "the others alone modulate the layers (default: every attribute does both)")
    parser.add_argument("--interaction-rank", type=int, default=0, metavar="R",
                        help="with --content: a rank-R product of content and style factors also modulates the layers")
    parser.add_argument("--style-map", action="store_true",
                        help="with --content: the style attributes also add a learned map to the starting feature "
                             "map, so a condition can place what a person's photographs never showed")
    parser.add_argument("--blend-norm", action="store_true",
                        help="with --content: the saved model draws a blend from a code as long as the mixed codes, "
                             "not their shorter plain mix (config.json's blend_norm; training is unchanged)")
    parser.add_argument("--train-normed-blends", action="store_true",
                        help="with --blend-norm: the loop's blends are drawn as the saved model draws them, at the "
                             "mixed codes' length, so the blend terms train what visitors see (default: plain mixes)")
    parser.add_argument("--exact-transform", action="store_true",
                        help="draw upright and apply the transform attribute exactly instead of learning it")
    parser.add_argument("--beta1", type=float, default=0.9, help="Adam's first beta (0.5 suits adversarial runs)")
    parser.add_argument("--adversarial-weight", type=float, default=0.0, metavar="W",
                        help="weight of the adversarial term: a conditional discriminator judges the generator's "
                             "images against the real images of the same combinations (default 0: off)")
    parser.add_argument("--adversarial-blend-weight", type=float, default=0.0, metavar="W",
                        help="weight of the adversarial term on the --mix-weight term's blends, which the "
                             "discriminator judges but never learns from (default 0: off)")
    parser.add_argument("--lr-d", type=float, default=2e-4, help="the discriminator's learning rate")
    parser.add_argument("--d-width", type=int, default=32, help="the discriminator's first layer width")
    parser.add_argument("--d-shift", type=int, default=None, metavar="PIXELS",
                        help="DiffAugment shift of the discriminator's images (default: an eighth of the side)")
    parser.add_argument("--d-cutout", action="store_true", help="DiffAugment cutout for the discriminator")
    parser.add_argument("--d-learns-unseen", action="store_true",
                        help="after each generator step, a second discriminator step learns the real images against "
                             "the step's drawings of unseen combinations and blends (default: it only judges them)")
    parser.add_argument("--d-unseen-weight", type=float, default=1.0, metavar="W",
                        help="with --d-learns-unseen: that step's loss times W (default 1)")
    parser.add_argument("--d-unseen-unconditional", action="store_true",
                        help="with --d-learns-unseen: that step scores both sides without their condition vectors")
    parser.add_argument("--colour-mixes", type=float, default=0.0, metavar="SHARE",
                        help="qmnist: recolour this share of the images with random mixes of red, green and blue, "
                             "whose target is exact (default 0)")
    add_average_arguments(parser)
    add_loop_arguments(parser, steps=4000, batch_size=64)
    use_recipe(parser, "train.gcn", argv)
    args = parser.parse_args(argv)
    role = "judge" if args.classifier_only else "gcn"
    args.output_dir = args.output_dir or Path("runs") / f"{role}-{args.dataset}"
    check_data_arguments(args)
    check_gcn_arguments(args)
    return args


def hyperparameters(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in HYPERPARAMETERS}


def train(argv=None) -> None:
    args = parse_arguments(argv)
    data_settings = from_flags(args)
    try:
        data = data_settings.load(args.data_dir)
    except DataError as err:
        fail(str(err))
    train = data.train.head(args.limit)
    accelerator = make_accelerator()
    torch.manual_seed(args.seed)
    try:
        task = GCNTask(args, train, accelerator)
    except ValueError as err:  # a model setting the data cannot satisfy (--content naming no attribute, say)
        fail(str(err))
    settings = {**vars(args), "images": len(train), **schedule_horizon(args.steps, decaying=args.cooldown > 0)}
    run = Run(args, accelerator, settings, resumable=("blend_norm", "save_generator"),
              records={"data": record(data_settings), "model": asdict(model_settings(args))})
    kind = "attribute-judge" if args.classifier_only else "gcn"
    run(task, (train.images, train.attributes), {
        "title": ("Attribute classifier (real images only)" if args.classifier_only else
                  "Generative Cooperative Net") + f": {args.dataset}",
        "kind": kind, "dataset": args.dataset, "images": len(train),
        "command": "python -m train.gcn " + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
        "hyperparameters": hyperparameters(args),
    })


main = command_line(train)

if __name__ == "__main__":
    main()
