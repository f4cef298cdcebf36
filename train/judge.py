"""Train the judge: a digit classifier for scoring generators, on the digits of some QMNIST writers.

    python -m train.judge                       # the shipped recipe, into runs/judge-mnist

Writers are split (kepkreator.data.digits.split_by_writer); the held-out
writers are never seen here, so `python -m kepkreator.evaluate judge` measures
accuracy on new hands.
"""
from __future__ import annotations

import argparse

from kepkreator.validation import HelpWithDefaults
from train.flags import LEARNING_RATE, SHIFT, WIDTH, add_loop_arguments, command_line
from train.recipes import parse_with_recipe


def get_args_parser() -> argparse.ArgumentParser:
    """Every flag of `python -m train.judge`; parse_args puts the recipe's values under them."""
    parser = argparse.ArgumentParser(prog="python -m train.judge", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults,
                                     allow_abbrev=False)
    parser.add_argument("--dataset", choices=["mnist", "emnist-letters", "emnist-digits"], default="mnist")
    parser.add_argument("--width", type=WIDTH, default=32, help="the first convolution's channels")
    parser.add_argument("--lr", type=LEARNING_RATE, default=3e-3, help="AdamW's peak rate, cosine-decayed")
    parser.add_argument("--shift", type=SHIFT, default=2, help="random shifts of the training digits, in pixels")
    add_loop_arguments(parser, batch_size=128)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    return parse_with_recipe(get_args_parser(), "train.judge", argv)


def main(args: argparse.Namespace) -> None:
    """Train the digit judge with parsed, checked settings; raises TrainingError with one line when it cannot."""
    from train.judge_task import run  # torch and Accelerate load once the flags have parsed

    run(args)


def train(argv=None) -> None:
    """The command, as a function: parse `argv` (default sys.argv[1:]) on the recipe, then train."""
    main(parse_args(argv))


if __name__ == "__main__":
    command_line(train)()
