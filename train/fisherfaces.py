"""Fit the Fisherface judge that reads faces for the face-blending evaluation.

    python -m train.fisherfaces                  # the shipped recipe (Yale), into runs/fisherfaces-yale
    python -m train.fisherfaces --dataset kdef --data-dir PATH

Closed form, in seconds: eigenfaces and one Fisherface projection per
attribute, from the upright real training faces only (the held-out
(identity, condition) pairs, split as train.gcn splits them, are never seen).
Its reliability is measured here too: leaving each upright training face out
in turn, refitting on the rest and reading the face left out.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from kepkreator.validation import HelpWithDefaults
from train.flags import command_line, fail
from train.gcn_arguments import add_data_arguments, check_data_arguments
from train.recipes import parse_with_recipe


def get_args_parser() -> argparse.ArgumentParser:
    """Every flag of `python -m train.fisherfaces`; parse_args puts the recipe's values under them."""
    parser = argparse.ArgumentParser(prog="python -m train.fisherfaces", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults,
                                     allow_abbrev=False)
    parser.add_argument("--dataset", choices=["yale", "kdef"], default="yale")
    parser.add_argument("--data-dir", type=Path, default=None, help="dataset root (default: ../shared/data)")
    parser.add_argument("--output-dir", type=Path, default=None, help="where the judge is saved (default: runs/RECIPE)")
    parser.add_argument("--push-to-hub", metavar="OWNER/NAME", default=None, help="upload the judge and its card")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the cached login)")
    add_data_arguments(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    args = parse_with_recipe(get_args_parser(), "train.fisherfaces", argv)
    check_data_arguments(args)
    if args.push_to_hub and args.push_to_hub.count("/") != 1:
        fail(f"--push-to-hub takes OWNER/NAME, got {args.push_to_hub!r}")
    return args


def main(args: argparse.Namespace) -> None:
    """Train the Fisherface judge with parsed, checked settings; raises TrainingError with one line when it cannot."""
    from train.fisherfaces_task import run  # torch and Accelerate load once the flags have parsed

    run(args)


def train(argv=None) -> None:
    """The command, as a function: parse `argv` (default sys.argv[1:]) on the recipe, then train."""
    main(parse_args(argv))


if __name__ == "__main__":
    command_line(train)()
