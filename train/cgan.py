"""Train the conditional GAN on character images.

    python -m train.cgan                                   # MNIST digits from ../shared/data
    python -m train.cgan --dataset emnist-letters --data-dir PATH
    torchrun --nproc_per_node 2 -m train.cgan ...          # the same run as two processes

Hinge loss, a spectrally normalised projection discriminator with a minibatch
standard-deviation channel, translation augmentation of everything the
discriminator sees (DiffAugment), a mode-seeking term against within-class
collapse, and an exponential moving average of the generator kept beside it
(`--save-generator` picks which one is saved).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.cards import write_card
from kepkreator.data.digits import DATASETS, DataError, load_characters, load_qmnist_test, split_by_writer
from kepkreator.models.cgan import Discriminator, Generator
from kepkreator.validation import HelpWithDefaults, number_flag
from train.diffaugment import translate
from train.ema import MovingAverage, add_average_arguments
from train.recipes import parse_with_recipe
from train.loop import (DECAY, LEARNING_RATE, SHIFT, WEIGHT, WIDTH, Run, add_loop_arguments, command_line, fail,
                        make_accelerator)


class CGANTask:
    """The cGAN's networks, optimizers and training step, for the shared loop (train/loop.py, `Task`)."""

    def __init__(self, args: argparse.Namespace, classes: str, accelerator):
        self.args, self.accelerator = args, accelerator
        self.generator = Generator(classes=classes, latent_dim=args.latent_dim, width=args.g_width)
        self.discriminator = Discriminator(num_classes=len(classes), width=args.d_width)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), args.lr_g, betas=(args.beta1, 0.999))
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), args.lr_d, betas=(args.beta1, 0.999))
        self.g, self.d, self.g_opt_p, self.d_opt_p = accelerator.prepare(
            self.generator, self.discriminator, self.g_opt, self.d_opt)
        self.ema = MovingAverage(self.generator, args.ema_decay)  # made where prepare put the generator
        self.sample_z = torch.randn(10 * len(classes), args.latent_dim, generator=torch.Generator().manual_seed(1234))
        self.sample_labels = torch.arange(len(classes)).repeat_interleave(10)

    def state_modules(self):
        return {"generator": self.generator, "discriminator": self.discriminator, "ema": self.ema.average}

    def optimizers(self):
        return {"generator": self.g_opt, "discriminator": self.d_opt}

    def training_step(self, batch, step):
        real, labels = batch
        real = real.unsqueeze(1).float().div(127.5).sub(1.0)
        n = len(labels)
        z = torch.randn(n, self.args.latent_dim, device=real.device)

        with torch.no_grad():
            fake = self.g(z, labels)
        scores = self.d(self.d_augment(torch.cat([real, fake])), torch.cat([labels, labels]))
        d_loss = F.relu(1 - scores[:n]).mean() + F.relu(1 + scores[n:]).mean()
        self.d_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(d_loss)
        self.d_opt_p.step()

        # Mode seeking (Mao et al. 2019): the two halves share labels, and images from different latents must differ.
        half = n // 2
        g_labels = torch.cat([labels[:half], labels[:half]])
        fake = self.g(z[:2 * half], g_labels)
        g_loss = -self.d(self.d_augment(fake), g_labels).mean()
        if self.args.mode_seeking > 0:
            spread = (fake[:half] - fake[half:]).abs().mean() / (z[:half] - z[half:2 * half]).abs().mean()
            g_loss = g_loss + self.args.mode_seeking / (spread + 1e-5)
        self.g_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_opt_p.step()

        self.ema.update()
        return {"d": d_loss.item(), "g": g_loss.item()}

    def d_augment(self, images: torch.Tensor) -> torch.Tensor:
        """DiffAugment for everything the discriminator sees: random shifts."""
        return translate(images, self.args.shift)

    def saved_generator(self):
        return self.ema.average if self.args.save_generator == "ema" else self.generator

    def sample_images(self):
        model = self.saved_generator()
        was_training = model.training
        model.eval()
        with torch.no_grad():
            images = model(self.sample_z, self.sample_labels).add(1).div(2).clamp(0, 1)
        model.train(was_training)
        return images

    def save_model(self, output_dir: Path):
        model = self.saved_generator()
        model.eval().save_pretrained(output_dir)
        write_card(model, output_dir)
        return model


def get_args_parser() -> argparse.ArgumentParser:
    """Every flag of `python -m train.cgan`; parse_args puts the recipe's values under them."""
    parser = argparse.ArgumentParser(prog="python -m train.cgan", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults,
                                     allow_abbrev=False)
    parser.add_argument("--dataset", choices=DATASETS, default="mnist", help="what to write: digits or letters")
    parser.add_argument("--writers", choices=["train", "all"], default="train",
                        help="mnist only: train on the writers the judge trains on (default), keeping the held-out "
                             "writers unseen for evaluation, or on all digits")
    parser.add_argument("--latent-dim", type=number_flag(1, 1024, whole=True), default=64,
                        help="the style latent's length")
    parser.add_argument("--g-width", type=WIDTH, default=64, help="the generator's widest layer")
    parser.add_argument("--d-width", type=WIDTH, default=32, help="the discriminator's first layer")
    parser.add_argument("--lr-g", type=LEARNING_RATE, default=2e-4, help="the generator's learning rate")
    parser.add_argument("--lr-d", type=LEARNING_RATE, default=2e-4, help="the discriminator's learning rate")
    parser.add_argument("--beta1", type=DECAY, default=0.5, help="Adam's first beta for both players")
    add_average_arguments(parser)
    parser.add_argument("--mode-seeking", type=WEIGHT, default=0.1, help="weight of the mode-seeking term (0: off)")
    parser.add_argument("--shift", type=SHIFT, default=2, help="DiffAugment translation in pixels (0: off)")
    add_loop_arguments(parser, batch_size=64)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    return parse_with_recipe(get_args_parser(), "train.cgan", argv)


def load_training_set(args: argparse.Namespace):
    """MNIST with writer ids keeps the judge's held-out writers out of training; other sets are used whole."""
    if args.dataset == "mnist" and args.writers == "train" and not args.download:
        data = load_qmnist_test(args.data_dir)
        data = data.subset(split_by_writer(data.writers))
    else:
        data = load_characters(args.dataset, args.data_dir, args.download)
    return data.head(args.limit)


def main(args: argparse.Namespace) -> None:
    """Train the cGAN with parsed, checked settings; raises TrainingError with one line when it cannot."""
    try:
        data = load_training_set(args)
    except DataError as err:
        fail(str(err))
    accelerator = make_accelerator()
    torch.manual_seed(args.seed)
    task = CGANTask(args, data.classes, accelerator)
    run = Run(args, accelerator, {**vars(args), "classes": data.classes, "images": len(data)},
              resumable=("save_generator",))
    run(task, (data.images, data.labels), {
        "title": f"Conditional GAN: {args.dataset}",
        "kind": "cgan",
        "dataset": args.dataset,
        "images": len(data),
        "command": args.command,
        "hyperparameters": {k: getattr(args, k) for k in
                            ("steps", "batch_size", "seed", "latent_dim", "g_width", "d_width", "lr_g", "lr_d",
                             "beta1", "ema_decay", "save_generator", "shift", "mode_seeking")},
    })


def train(argv=None) -> None:
    """The command, as a function: parse `argv` (default sys.argv[1:]) on the recipe, then train."""
    main(parse_args(argv))


if __name__ == "__main__":
    command_line(train)()
