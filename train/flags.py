"""The flags the training scripts share and their checks, in a module that loads neither torch nor Accelerate:
`python -m train.gcn --help` and a wrong flag answer at once."""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from kepkreator.data.catalog import default_data_dir
from kepkreator.validation import number_flag, positive_int, seed_flag

# The number flags the training scripts share, each checked as argparse reads it.
WIDTH = number_flag(4, 512, whole=True)  # a network's first layer
LEARNING_RATE = number_flag(0, 1, above=True)
DECAY = number_flag(0, 1, below=True)  # Adam's first beta, a moving average's decay
WEIGHT = number_flag(0)  # a loss term's weight; 0 turns it off
SHARE = number_flag(0, 1)
SHIFT = number_flag(0, 8, whole=True)  # pixels an image is moved by, as augmentation


def add_loop_arguments(parser: argparse.ArgumentParser, batch_size: int) -> None:
    """The flags every training script shares; --steps' default is the recipe's."""
    parser.add_argument("--data-dir", type=Path, default=None, help=f"dataset root (default: {default_data_dir()})")
    parser.add_argument("--download", action="store_true", help="fetch the full dataset through torchvision first")
    parser.add_argument("--output-dir", type=Path, default=None, help="checkpoints, samples and the final model")
    parser.add_argument("--steps", type=positive_int, help="optimisation steps (default: the recipe's)")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help="global batch, over all processes")
    parser.add_argument("--seed", type=seed_flag, default=0, help="the same seed and flags train the same weights")
    parser.add_argument("--checkpoint-every", type=positive_int, default=500, help="steps between checkpoints")
    parser.add_argument("--sample-every", type=positive_int, default=1000, help="steps between sample grids")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --output-dir")
    parser.add_argument("--push-to-hub", metavar="OWNER/NAME", default=None, help="upload the final model and card")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the cached login)")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="train on the first N images only (smoke tests)")


class TrainingError(Exception):
    """A run that cannot go on; the message says why, and what was kept."""


def fail(message: str) -> None:
    raise TrainingError(message)


def command_line(train):
    """`train(argv)` as a command: a TrainingError becomes one line on stderr and exit code 2. Code that trains
    as a step of its own (the studies) calls `train` and decides what a failure means."""
    @functools.wraps(train)
    def main(argv=None):
        try:
            return train(argv)
        except TrainingError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
    return main


def add_cooldown_argument(parser) -> None:
    parser.add_argument("--cooldown", type=number_flag(0, whole=True), default=0, metavar="N",
                        help="decay the learning rates linearly to zero over the last N steps (0: constant)")


def check_cooldown(args: argparse.Namespace) -> None:
    if not 0 <= args.cooldown <= args.steps:
        fail(f"--cooldown must be from 0 to --steps ({args.steps}), got {args.cooldown}")


def add_average_arguments(parser, decay: float = 0.999) -> None:
    parser.add_argument("--ema-decay", type=DECAY, default=decay,
                        help=f"decay of the generator's moving average, from 0 to below 1 (default {decay})")
    parser.add_argument("--save-generator", choices=["raw", "ema"], default="raw",
                        help="which generator the final model is: the trained one or its moving average")
