"""The Generative Cooperative Net's training task for the shared loop: its networks, losses and step. The command
is train/gcn.py; its flags, their checks and the terms they add are in train/gcn_arguments.py.
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
from kepkreator.data.settings import from_flags, record
from kepkreator.data.attribute_sets import AttributeSet, Partners, mix, one_hot_parts
from kepkreator.data.transforms import upright
from kepkreator.models.gcn import TRANSFORM, GCNModel
from train.diffaugment import translate
from train.gcn_arguments import hyperparameters
from train.loop import Run, apply_cooldown, fail, make_accelerator, schedule_horizon

# The attribute a user blends in the app, which --mix-weight teaches the generator to blend.
BLENDED = {"qmnist": "writer", "yale": "identity", "kdef": "identity"}
COLOUR = "colour"  # an attribute whose values are the image channels, which --colour-mixes mixes


def classification_loss(logits: dict[str, torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over the attributes; each target is N x values probabilities (one-hot or a mix)."""
    return sum(F.cross_entropy(logit, target) for logit, target in zip(logits.values(), targets)) / len(logits)


def model_settings(args: argparse.Namespace) -> GCNModel:
    return GCNModel(args.width, args.classifier_width, args.generator, tuple(args.content or ()), args.exact_transform,
                    args.d_width)


def colours_seen(data: AttributeSet, column: int) -> torch.Tensor:
    """digits x writers x colours: which colours each (digit, writer) item has in `data` (qmnist's schema order)."""
    sizes = [len(values) for values in data.schema.values()]
    seen = torch.zeros(sizes[0], sizes[1], sizes[column])
    seen[data.attributes[:, 0], data.attributes[:, 1], data.attributes[:, column]] = 1
    return seen


class GCNTask:
    """The cooperative net's networks, optimizers and training step, for the shared loop (train/loop.py, `Task`)."""

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
        if "discriminator" in prepared:
            self.d, self.d_opt_p = prepared["discriminator"]
        if args.mix_weight:
            self.mixes = Partners(data, list(data.schema).index(BLENDED[args.dataset]))
        show = torch.arange(0, len(data), max(1, len(data) // 100))[:100]
        self.sample_attributes = data.one_hot(data.attributes[show])

    def state_modules(self):
        return self.modules

    def optimizers(self):
        return self.opts

    def training_step(self, batch, step):
        apply_cooldown(((optimizer, self.args.lr_d if name == "discriminator" else self.args.lr)
                        for name, optimizer in self.opts.items()), step, self.args.steps, self.args.cooldown)
        images, attributes = batch
        real, targets = images.float() / 255, one_hot_parts(attributes, self.schema)
        if self.colour is not None:
            real, targets = self.mix_colours(real, attributes, targets)
        c_loss = classification_loss(self.c(real), targets)
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
        if self.args.unseen_weight:
            unseen = self.unseen_combinations(targets)
            g_loss = g_loss + self.args.unseen_weight * unseen
            losses["unseen"] = unseen.item()
        if self.args.mix_weight:
            mixing, blends, vectors = self.mix_reconstruction(real, attributes)
            g_loss = g_loss + self.args.mix_weight * mixing
            losses["mix"] = mixing.item()
            if self.args.adversarial_blend_weight:
                realism = self.blend_realism(blends, attributes, vectors)
                g_loss = g_loss + self.args.adversarial_blend_weight * realism
                losses["adv_blend"] = realism.item()
        self.g_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_opt_p.step()
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
                           fake_condition: torch.Tensor) -> float:
        """One hinge-loss step of the discriminator, both sides through DiffAugment; returns the loss."""
        scores_real = self.d(self.d_augment(real), real_condition)
        scores_fake = self.d(self.d_augment(fake), fake_condition)
        d_loss = F.relu(1 - scores_real).mean() + F.relu(1 + scores_fake).mean()
        self.d_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(d_loss)
        self.d_opt_p.step()
        return d_loss.item()

    def unseen_combinations(self, targets: list[torch.Tensor]) -> torch.Tensor:
        """Each row's content (a face's identity) drawn with another row's style attributes (its condition),
        upright: mostly combinations no real image shows, held-out ones among them. No image is there to
        reconstruct, so they get the terms that need none, as the batch's own images do: the cooperating
        classifier must read the combination, and the discriminator judges it but never learns from it (it would
        learn to refuse combinations it has no real image of; docs/cooperative-nets.md has the run that tried)."""
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
        return loss

    def d_augment(self, images: torch.Tensor) -> torch.Tensor:
        """DiffAugment for what the discriminator sees: photographs repeat their edges when shifted; digits sit
        on black."""
        return translate(images, self.args.d_shift, fill=None if self.args.dataset != "qmnist" else 0.0)

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
        parts = one_hot_parts(attributes, self.schema)
        parts[column] = mix(partner_values, attributes[:, column], weight, parts[column].shape[1])
        target = weight[:, :, None, None] * real + (1 - weight[:, :, None, None]) * partner_images
        vectors = torch.cat(parts, 1)
        blends = self.g(vectors)
        return F.mse_loss(blends, target), blends, vectors

    def blend_realism(self, blends: torch.Tensor, attributes: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial loss on its blends, which the discriminator judges as it judges the batch's
        own images (upright when the transform is exact) but never learns from: no real image of a blend exists,
        so a discriminator shown blends as fakes would learn to refuse the blended condition itself. The pixel-mix
        target alone gives blends a double-exposed look; this pulls them toward a face."""
        condition, _ = self.generator.split(vectors)
        if self.generator.exact_transform:
            blends = upright(blends, attributes[:, list(self.schema).index(TRANSFORM)])
        return -self.d(self.d_augment(blends), condition).mean()

    def sample_images(self):
        if self.args.classifier_only:
            return None
        generator = self.generator
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
        generator = self.generator
        generator.eval().save_pretrained(output_dir)
        if self.args.blend_norm:
            draw_blends_normed(output_dir)
        write_card(generator, output_dir)
        return generator


def draw_blends_normed(model_dir: Path) -> None:
    """Turn on `blend_norm` in a saved generator's config.json. It is a drawing setting: the loop trains on the
    plain mixes, and the saved model draws blends at the length of the codes it mixes."""
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text())
    config["blend_norm"] = True
    config_path.write_text(json.dumps(config, sort_keys=True, indent=2))


def run(args: argparse.Namespace) -> None:
    """Train the cooperative net (or its classifier alone) with parsed, checked settings; raises TrainingError
    with one line when it cannot."""
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
    run = Run(args, accelerator, settings, resumable=("blend_norm",),
              records={"data": record(data_settings), "model": asdict(model_settings(args))})
    kind = "attribute-judge" if args.classifier_only else "gcn"
    run(task, (train.images, train.attributes), {
        "title": ("Attribute classifier (real images only)" if args.classifier_only else
                  "Generative Cooperative Net") + f": {args.dataset}",
        "kind": kind, "dataset": args.dataset, "images": len(train),
        "command": args.command,
        "hyperparameters": hyperparameters(args),
    })
