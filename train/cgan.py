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

from kepkreator.data.catalog import DATASETS
from kepkreator.validation import HelpWithDefaults, number_flag
from train.flags import (DECAY, LEARNING_RATE, SHIFT, WEIGHT, WIDTH, add_average_arguments, add_cooldown_argument,
                         add_loop_arguments, check_cooldown, command_line)
from train.recipes import parse_with_recipe


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
    add_cooldown_argument(parser)
    parser.add_argument("--mode-seeking", type=WEIGHT, default=0.1, help="weight of the mode-seeking term (0: off)")
    parser.add_argument("--shift", type=SHIFT, default=2, help="DiffAugment translation in pixels (0: off)")
    add_loop_arguments(parser, batch_size=64)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    args = parse_with_recipe(get_args_parser(), "train.cgan", argv)
    check_cooldown(args)
    return args


def main(args: argparse.Namespace) -> None:
    """Train the cGAN with parsed, checked settings; raises TrainingError with one line when it cannot."""
    from train.cgan_task import run  # torch and Accelerate load once the flags have parsed

    run(args)


def train(argv=None) -> None:
    """The command, as a function: parse `argv` (default sys.argv[1:]) on the recipe, then train."""
    main(parse_args(argv))


if __name__ == "__main__":
    command_line(train)()
