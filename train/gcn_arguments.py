"""The command line of `python -m train.gcn`: every flag, its check and the hyperparameters written on the card.

Every model and loss flag is checked before any data is read, with one line naming the flag and what it allows.
"""
from __future__ import annotations

import argparse

from kepkreator.data.catalog import KDEF_ANGLES, KDEF_EXPRESSIONS
from kepkreator.validation import HelpWithDefaults, number_flag, seed_flag
from train.flags import (DECAY, LEARNING_RATE, SHARE, WEIGHT, WIDTH, add_cooldown_argument, add_loop_arguments,
                         check_cooldown, fail)
from train.recipes import parse_with_recipe

DESCRIPTION = "Train the Generative Cooperative Net (attributes -> image) or its independent judge."
DATASETS = ("qmnist", "yale", "kdef")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """What chooses and splits the images; --dataset and --data-dir come from the caller."""
    parser.add_argument("--holdout", type=number_flag(0, 0.5, above=True, below=True), default=0.1,
                        help="qmnist: share of items that lose a colour (and as many a transform); "
                             "faces: share of (identity, condition) pairs held out")
    parser.add_argument("--split-seed", type=seed_flag, default=0,
                        help="which combinations are held out (0: the split of the shipped models)")
    parser.add_argument("--image-size", type=number_flag(4, 256, whole=True), default=64,
                        help="faces: side of the square crop")
    parser.add_argument("--grey", action="store_true", help="kdef: train on grey images")
    parser.add_argument("--exclude-identities", type=number_flag(0, whole=True), default=0,
                        help="faces: leave this many identities out entirely (for the augmentation study)")
    parser.add_argument("--kdef-sessions", nargs="+", default=["A", "B"], choices=["A", "B"],
                        help="kdef: the photo sessions to read (KDEF photographed everyone twice, A and B)")
    parser.add_argument("--kdef-expressions", nargs="+", default=list(KDEF_EXPRESSIONS), choices=list(KDEF_EXPRESSIONS),
                        help="kdef: AF afraid, AN angry, DI disgusted, HA happy, NE neutral, SA sad, SU surprised")
    parser.add_argument("--kdef-angles", nargs="+", default=["S"], choices=list(KDEF_ANGLES),
                        help="kdef: FL full left, HL half left, S straight, HR half right, FR full right")


def check_data_arguments(args: argparse.Namespace) -> None:
    from kepkreator.models.gcn import base_size  # torch: loaded once the flags have parsed

    try:
        base_size(args.image_size)  # the sides the generator can draw
    except ValueError as err:
        fail(f"--image-size: {err}; 32, 48, 56 and 64 are fine")


# The flags that work on the --content/style split of the generator's input, and what each does with it.
NEEDS_CONTENT = {"unseen_weight": "draws each --content with other rows' style attributes",
                 "blend_norm": "rescales blended --content codes"}


def check_gcn_arguments(args: argparse.Namespace) -> None:
    """Every model and loss flag checked before any data is read; fills in --d-shift's default."""
    check_cooldown(args)
    generator_flags = {"unseen_weight": 0.0, "mix_weight": 0.0, "adversarial_weight": 0.0,
                       "adversarial_blend_weight": 0.0, "colour_mixes": 0.0, "exact_transform": False,
                       "generator": "plain", "content": None, "blend_norm": False}
    for flag, off in generator_flags.items():
        if getattr(args, flag) != off and args.classifier_only and flag != "colour_mixes":
            fail(f"--{flag.replace('_', '-')} trains the generator; --classifier-only trains no generator")
    if args.adversarial_blend_weight and not (args.adversarial_weight and args.mix_weight):
        fail("--adversarial-blend-weight judges the --mix-weight term's blends with the --adversarial-weight term's "
             "discriminator: it needs both")
    for flag, what_it_does in NEEDS_CONTENT.items():
        if getattr(args, flag) and not args.content:
            fail(f"--{flag.replace('_', '-')} {what_it_does}: it needs --content")
    if args.content and args.generator != "modulated":
        fail("--content splits what the layers read: it needs --generator modulated")
    if args.colour_mixes and args.dataset != "qmnist":
        fail(f"--colour-mixes mixes red, green and blue ink: only qmnist has a colour attribute, not {args.dataset}")
    side = 28 if args.dataset == "qmnist" else args.image_size
    if args.d_shift is None:
        args.d_shift = round(side / 8)
    if not 0 <= args.d_shift <= side // 4:
        fail(f"--d-shift must be from 0 to a quarter of the image side ({side // 4} pixels), got {args.d_shift}")


HYPERPARAMETERS = ("steps", "batch_size", "seed", "holdout", "width", "classifier_width", "lr", "coop_weight",
                   "unseen_weight", "mix_weight", "cooldown", "generator", "exact_transform", "beta1",
                   "adversarial_weight", "lr_d", "adversarial_blend_weight", "d_width", "d_shift", "colour_mixes",
                   "blend_norm")  # written on the model card


def get_args_parser() -> argparse.ArgumentParser:
    """Every flag of `python -m train.gcn`; parse_args puts the recipe's values under them."""
    parser = argparse.ArgumentParser(prog="python -m train.gcn", description=DESCRIPTION, allow_abbrev=False,
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("--dataset", choices=DATASETS, default="qmnist",
                        help="qmnist: digit, writer, colour, transform; yale or kdef: identity, condition, transform")
    parser.add_argument("--classifier-only", action="store_true", help="train only a classifier of real images")
    add_data_arguments(parser)
    parser.add_argument("--width", type=WIDTH, default=64, help="the generator's width (its first map has twice this)")
    parser.add_argument("--classifier-width", type=WIDTH, default=32, help="the classifier's first layer")
    parser.add_argument("--lr", type=LEARNING_RATE, default=1e-3, help="the generator's and classifier's learning rate")
    parser.add_argument("--coop-weight", type=WEIGHT, default=0.05,
                        help="weight of the cooperation term: the classifier's cross-entropy on generated images")
    parser.add_argument("--unseen-weight", type=WEIGHT, default=0.0, metavar="W",
                        help="with --content: each row's content drawn with another row's style attributes (unseen "
                             "combinations among them) gets the cooperation and adversarial terms, times W; the "
                             "discriminator never learns from these images (0: off)")
    parser.add_argument("--mix-weight", type=WEIGHT, default=0.0, metavar="W",
                        help="weight of the mix reconstruction term: pixel mixes of two real images that differ "
                             "only in the blended attribute must be drawn from the mixed vector (0: off)")
    add_cooldown_argument(parser)
    parser.add_argument("--generator", choices=["plain", "modulated"], default="plain",
                        help="plain: the paper's stack, the attributes enter once; modulated: they also modulate "
                             "every layer, two convolutions per scale")
    parser.add_argument("--content", nargs="*", default=None, metavar="ATTRIBUTE",
                        help="modulated: the attributes that alone shape the starting feature map (faces: identity); "
                             "the others alone modulate the layers (none given: every attribute does both)")
    parser.add_argument("--blend-norm", action=argparse.BooleanOptionalAction, default=False,
                        help="with --content: the saved model draws a blend from a code as long as the mixed codes, "
                             "not their shorter plain mix (config.json's blend_norm; training is unchanged)")
    parser.add_argument("--exact-transform", action=argparse.BooleanOptionalAction, default=False,
                        help="draw upright and apply the transform attribute exactly instead of learning it")
    parser.add_argument("--beta1", type=DECAY, default=0.9, help="Adam's first beta (0.5 suits adversarial runs)")
    parser.add_argument("--adversarial-weight", type=WEIGHT, default=0.0, metavar="W",
                        help="weight of the adversarial term: a conditional discriminator judges the generator's "
                             "images against the real images of the same combinations (0: off)")
    parser.add_argument("--adversarial-blend-weight", type=WEIGHT, default=0.0, metavar="W",
                        help="weight of the adversarial term on the --mix-weight term's blends, which the "
                             "discriminator judges but never learns from (0: off)")
    parser.add_argument("--lr-d", type=LEARNING_RATE, default=2e-4, help="the discriminator's learning rate")
    parser.add_argument("--d-width", type=WIDTH, default=32, help="the discriminator's first layer width")
    parser.add_argument("--d-shift", type=number_flag(0, whole=True), default=None, metavar="PIXELS",
                        help="DiffAugment shift of the discriminator's images (default: an eighth of the side)")
    parser.add_argument("--colour-mixes", type=SHARE, default=0.0, metavar="SHARE",
                        help="qmnist: recolour this share of the images with random mixes of red, green and blue, "
                             "whose target is exact")
    add_loop_arguments(parser, batch_size=64)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """The checked settings a `python -m train.gcn` command line trains with (a recipe's, changed by flags)."""
    args = parse_with_recipe(get_args_parser(), "train.gcn", argv)
    check_data_arguments(args)
    check_gcn_arguments(args)
    return args


def hyperparameters(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in HYPERPARAMETERS}
