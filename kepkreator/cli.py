"""The drawings the app makes, from the command line: `kepkreator COMMAND ...` or `python -m kepkreator COMMAND ...`.

    kepkreator write "+1 (555) 123-4567" phone.png --seed 7             # handwriting (the cGAN)
    kepkreator write 2026 mine.png --hand my-seven.png                   # in the hand of a digit you drew
    kepkreator digit 7 seven.png --writer 327 --colour red=1 blue=1     # a digit in a QMNIST writer's hand
    kepkreator digit 2026 year.png --writer 327 --writer-b 2351 --blend 0.5 --transform mirror
    kepkreator face blend.png --a subject01 --b subject02 --blend 0.5 --condition happy

The flags are read before torch loads, so --help and a wrong flag answer at once.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kepkreator.validation import number_flag, seed_flag

COLOURS = ("red", "green", "blue")


def png_path(value: str) -> Path:
    path = Path(value)
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"must name a .png file, got {value!r}")
    return path


def channel_weight(value: str) -> tuple[str, float]:
    name, _, weight = value.partition("=")
    if name not in COLOURS:
        raise argparse.ArgumentTypeError(f"must be red, green or blue, optionally =WEIGHT from 0 to 1, got {value!r}")
    return name, number_flag(0, 1)(weight) if weight else 1.0


def draw_handwriting(args: argparse.Namespace):
    from kepkreator.handwriting import Handwriter

    handwriter = Handwriter.from_pretrained(args.weights)
    hand = handwriter.hand_from(drawing(args.hand), args.hand_character) if args.hand else None
    return handwriter(args.text, seed=args.seed, neatness=args.neatness, variation=args.variation, scale=args.scale,
                      wrap=args.wrap, hand=hand)


def drawing(path: Path):
    """The image of one drawn character, read within the app's bounds."""
    from PIL import Image

    from kepkreator.hands import bounded
    from kepkreator.validation import InputError

    try:
        return bounded(Image.open(path))
    except OSError as err:
        raise InputError(f"cannot read --hand {path}: {err.strerror or 'not an image PIL reads'}") from None


def draw_digits(args: argparse.Namespace):
    from kepkreator.attributes import AttributeGlyphs, AttributeModel, blend, brightness, ink_colour
    from kepkreator.handwriting import Layout, Style, write
    from kepkreator.imaging import to_pil
    from kepkreator.validation import choice

    model = AttributeModel.from_pretrained(args.weights)
    writers = model.schema["writer"]
    writer_a = choice("writer", args.writer or writers[0], writers)
    writer = blend(writer_a, choice("writer", args.writer_b or writer_a, writers), args.blend)
    weights = dict(args.colour or [("blue", 1.0)])
    colour = ink_colour(*(weights.get(name, 0.0) for name in COLOURS))
    transform = choice("transform", args.transform, model.schema["transform"])
    if len(args.text) == 1:
        digit = choice("digit", args.text, model.schema["digit"])
        image = model.generate(model.vector(digit=digit, writer=writer, colour=colour, transform=transform))[0]
        return to_pil((image * brightness(colour)).clamp(0, 1), scale=args.scale * 4)
    glyphs = AttributeGlyphs(model, "digit", gain=brightness(colour), writer=writer, colour=colour,
                             transform=transform)
    return write(args.text, glyphs, Style(seed=args.seed), Layout(scale=args.scale, paper=(0, 0, 0)))


def draw_face(args: argparse.Namespace):
    from kepkreator.attributes import AttributeModel, blend
    from kepkreator.imaging import to_pil
    from kepkreator.validation import choice

    model = AttributeModel.from_pretrained(args.weights)
    people, conditions = model.schema["identity"], model.schema["condition"]
    a = choice("identity", args.a or people[0], people)
    b = choice("identity", args.b or people[min(1, len(people) - 1)], people)
    condition = choice("condition", args.condition or conditions[0], conditions)
    transform = choice("transform", args.transform, model.schema["transform"])
    image = model.generate(model.vector(identity=blend(a, b, args.blend), condition=condition, transform=transform))[0]
    return to_pil(image, scale=args.scale * 2, smooth=True)


def get_args_parser() -> argparse.ArgumentParser:
    """`kepkreator write | digit | face` and their flags."""
    parser = argparse.ArgumentParser(prog="kepkreator", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    formatter = argparse.ArgumentDefaultsHelpFormatter

    hand = commands.add_parser("write", help="write a number in the handwriting cGAN's hand", formatter_class=formatter)
    hand.add_argument("text", help="up to 100 digits, signs (+ - = . , : / ( ) %% $ € £ ¥ ₹), spaces, newlines")
    hand.add_argument("out", type=png_path, help="the .png to write")
    hand.add_argument("--weights", default="cgan-mnist", help="shipped name or weights folder")
    hand.add_argument("--neatness", type=number_flag(0, 1), default=0.5, help="0 wild, 1 tidy")
    hand.add_argument("--variation", type=number_flag(0, 1), default=0.15,
                      help="0 one hand throughout, 1 every character its own")
    hand.add_argument("--wrap", type=number_flag(0, 100, whole=True), default=0,
                      help="characters per line (0: never wrap)")
    hand.add_argument("--hand", type=Path, default=None, metavar="IMAGE",
                      help="write in the hand of the one digit this image shows (dark on light, light on dark or on "
                           "transparency); default: the seed's hand")
    hand.add_argument("--hand-character", default=None, metavar="DIGIT",
                      help="which digit --hand shows (default: the digit judge reads it)")
    hand.set_defaults(draw=draw_handwriting)

    digits = commands.add_parser("digit", help="a digit or a number in a QMNIST writer's hand, colour and transform",
                                 formatter_class=formatter)
    digits.add_argument("text", help="one digit (drawn alone) or a number (written)")
    digits.add_argument("out", type=png_path, help="the .png to write")
    digits.add_argument("--weights", default="gcn-qmnist", help="shipped name or weights folder")
    digits.add_argument("--writer", default=None, help="a QMNIST writer id (default: the model's first)")
    digits.add_argument("--writer-b", default=None, help="a second writer to blend in")
    digits.add_argument("--colour", nargs="+", type=channel_weight, default=None, metavar="CHANNEL[=WEIGHT]",
                        help="ink: red, green and/or blue, each with a weight from 0 to 1 (default: blue)")
    digits.set_defaults(draw=draw_digits)

    faces = commands.add_parser("face", help="a blend of two people in a condition", formatter_class=formatter)
    faces.add_argument("out", type=png_path, help="the .png to write")
    faces.add_argument("--weights", default="gcn-yale", help="shipped name or weights folder")
    faces.add_argument("--a", default=None, help="the first person (default: the model's first)")
    faces.add_argument("--b", default=None, help="the second person (default: the model's second)")
    faces.add_argument("--condition", default=None,
                       help="Yale: centerlight glasses happy leftlight noglasses normal rightlight sad sleepy "
                            "surprised wink; KDEF: AF AN DI HA NE SA SU (default: the model's first)")
    faces.set_defaults(draw=draw_face)

    for command, blend_help in ((digits, "writer B's share"), (faces, "person B's share")):
        command.add_argument("--blend", type=number_flag(0, 1), default=0.0 if command is digits else 0.5,
                             help=blend_help)
        command.add_argument("--transform", default="identity",
                             help="identity, rotate 90, rotate 180, rotate 270, mirror, rotate 90 + mirror, ...")
    for command in (hand, digits, faces):
        command.add_argument("--seed", type=seed_flag, default=0, help="the same seed draws the same image")
        command.add_argument("--scale", type=number_flag(1, 8, whole=True), default=2,
                             help="output pixels per model pixel")
    return parser


def main(argv=None) -> None:
    """Draw what the command line asks and save it; a mistake exits 2 with one line and writes nothing."""
    args = get_args_parser().parse_args(argv)
    from kepkreator.hub import WeightsError
    from kepkreator.validation import InputError

    try:
        image = args.draw(args)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        image.save(args.out)
    except (InputError, WeightsError) as err:
        print(f"kepkreator {args.command}: error: {err}", file=sys.stderr)
        raise SystemExit(2)
    except OSError as err:
        print(f"kepkreator {args.command}: error: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
        raise SystemExit(2)
    print(f"wrote {args.out} ({image.width}x{image.height})")


if __name__ == "__main__":
    main()
