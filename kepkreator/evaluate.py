"""Measure a model and print the table its model card shows.

    python -m kepkreator.evaluate judge        # the digit judge: accuracy on writers it never saw
    python -m kepkreator.evaluate cgan         # the handwriting GAN beside real digits
    python -m kepkreator.evaluate gcn          # QMNIST styles: unseen combinations, attributes, blends
    python -m kepkreator.evaluate faces        # Yale faces: unseen (identity, condition) pairs, blends
    ... --write-card                           # store metrics.json beside the weights and refresh README.md
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kepkreator.validation import HelpWithDefaults, number_flag, seed_flag

# model -> (default weights, default judges that score it; the first is checked against the targets)
MODELS = {
    "judge": ("judge-mnist", ()),
    "cgan": ("cgan-mnist", ("judge-mnist",)),
    "gcn": ("gcn-qmnist", ("judge-qmnist-styles",)),
    "faces": ("gcn-yale", ("fisherfaces-yale", "judge-yale")),
}


def evaluate(model: str, args) -> tuple[dict, type]:
    if model in ("judge", "cgan"):
        from kepkreator.evaluation import handwriting_metrics
        from kepkreator.models.cgan import Generator
        from kepkreator.models.judge import Judge

        if model == "judge":
            return handwriting_metrics.evaluate_judge(args), Judge
        return handwriting_metrics.evaluate_cgan(args), Generator
    from kepkreator.evaluation import face_metrics, style_metrics
    from kepkreator.models.gcn import AttributeGenerator

    if model == "faces":
        return face_metrics.evaluate_faces(args), AttributeGenerator
    return style_metrics.evaluate_gcn(args), AttributeGenerator


def print_table(result: dict) -> None:
    rows = result["rows"]
    headers = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in headers]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(headers, widths)))
    print()
    print(result["notes"])


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.evaluate", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("model", choices=sorted(MODELS), help="which kind of model to measure")
    parser.add_argument("--weights", default=None, help="weights folder or shipped name (default: the shipped model)")
    parser.add_argument("--judge", nargs="+", default=None, metavar="NAME",
                        help="weights of the classifier that scores a generator (faces: one or more, the first "
                             "checked against the targets)")
    parser.add_argument("--data-dir", type=Path, default=None, help="dataset root (default: ../shared/data or ./data)")
    parser.add_argument("--seed", type=seed_flag, default=0, help="the latents, blends and splits drawn")
    parser.add_argument("--k", type=number_flag(1, 100, whole=True), default=3,
                        help="neighbours for precision and recall")
    parser.add_argument("--figure", type=Path, default=None, metavar="PNG",
                        help="faces: write side-by-side figures of the held-out faces and of blends here (and beside "
                             "it); gcn: a figure of writer blends beside their pixel mixes and flow morphs")
    parser.add_argument("--compare", nargs="+", default=[], metavar="NAME",
                        help="faces: other models of the same split to show in --figure before this one")
    parser.add_argument("--write-card", action="store_true",
                        help="store metrics.json beside the weights, refresh README.md")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """The evaluation's settings, defaults filled in from the model kind; a wrong flag exits 2 with one line."""
    parser = get_args_parser()
    args = parser.parse_args(argv)
    default_weights, default_judges = MODELS[args.model]
    args.weights = args.weights or default_weights
    args.judges = args.judge or list(default_judges)
    if len(args.judges) > 1 and args.model != "faces":
        parser.error(f"--judge takes one name for {args.model}")
    args.judge = args.judges[0] if args.judges else None
    if args.figure and args.model not in ("faces", "gcn"):
        parser.error("--figure is for faces and gcn")
    if args.compare and args.model != "faces":
        parser.error("--compare is for faces")
    if args.compare and not args.figure:
        parser.error("--compare shows models in a figure: give --figure PNG too")
    if args.figure and args.figure.suffix.lower() != ".png":
        parser.error(f"--figure must name a .png file, got {args.figure}")
    return args


def measure(argv=None) -> dict:
    """The figures `python -m kepkreator.evaluate ARGV` prints, as its metrics.json records them."""
    args = parse_args(argv)
    return evaluate(args.model, args)[0]


def main(argv=None) -> None:
    args = parse_args(argv)  # before torch loads: --help and a wrong flag answer at once
    from kepkreator.cards import write_card
    from kepkreator.data.digits import DataError
    from kepkreator.hub import WeightsError, load_model, weights_path

    try:
        result, model_class = evaluate(args.model, args)
    except (DataError, WeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2)
    result["command"] = "python -m kepkreator.evaluate " + " ".join(argv if argv is not None else sys.argv[1:])
    print_table(result)
    if args.write_card:
        folder = weights_path(args.weights)
        (folder / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
        write_card(load_model(model_class, folder), folder)
        print(f"\nwrote {folder / 'metrics.json'} and {folder / 'README.md'}")


if __name__ == "__main__":
    main()
