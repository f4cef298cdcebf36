"""Train the Generative Cooperative Net (attributes -> image) or its independent judge.

    python -m train.gcn                                  # the shipped QMNIST styles model's recipe
    python -m train.gcn --dataset yale                   # the shipped face model's recipe
    python -m train.gcn --classifier-only                # a classifier of real images only, for measuring

Loss for the generator: MSE between its image for a combination and the real
image of that combination, plus `--coop-weight` times the cooperating
classifier's cross-entropy on the generated image. The classifier learns only
from real images. Held-out combinations never reach either network. The flags, their
checks and the terms they add are listed in train/gcn_arguments.py; the task is train/gcn_task.py.
"""
from __future__ import annotations

import argparse

from train.flags import command_line
from train.gcn_arguments import get_args_parser, parse_args  # noqa: F401 (torchvision's references' shape)


def main(args: argparse.Namespace) -> None:
    """Train the cooperative net (or its classifier alone) with parsed, checked settings; raises TrainingError
    with one line when it cannot."""
    from train.gcn_task import run  # torch and Accelerate load once the flags have parsed

    run(args)


def train(argv=None) -> None:
    """The command, as a function: parse `argv` (default sys.argv[1:]) on the recipe, then train."""
    main(parse_args(argv))


if __name__ == "__main__":
    command_line(train)()
