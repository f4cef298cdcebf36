"""How should a visitor's hand be searched for? The own-hand measurement of `python -m kepkreator.evaluate cgan`,
run for several inversion settings side by side (restarts, Adam steps, the prior's weight), with each one's time.

    python -m studies.hand_study                 # writes docs/own-hand-study.md

The shipped setting (kepkreator/hands.py, `Inversion()`) is the first row.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from kepkreator.cards import markdown_table
from kepkreator.evaluation.hand_metrics import FOUND, evaluate_own_hand
from kepkreator.evaluation.handwriting_metrics import writer_split
from kepkreator.hands import Inversion
from kepkreator.handwriting import Handwriter
from kepkreator.hub import load_model
from kepkreator.models.judge import Judge
from kepkreator.validation import HelpWithDefaults, seed_flag

SETTINGS = [Inversion(), Inversion(restarts=1), Inversion(restarts=8, steps=40), Inversion(restarts=16, steps=120),
            Inversion(prior=0.01), Inversion(prior=1.0)]


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m studies.hand_study", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("--out", type=Path, default=Path("docs/own-hand-study.md"), help="the table, as markdown")
    parser.add_argument("--seed", type=seed_flag, default=0, help="which digit of each writer is given")
    return parser


def main(argv=None) -> None:
    args = get_args_parser().parse_args(argv)
    judge = load_model(Judge, "judge-mnist")
    handwriter = Handwriter(Handwriter.from_pretrained(reader=None).source, judge)
    _, unseen = writer_split(None)
    rows = []
    for how in SETTINGS:
        handwriter.source.inversion = how
        started = time.perf_counter()
        result = evaluate_own_hand(handwriter, judge, unseen, args.seed)
        found = next(row for row in result["rows"] if row["hand"] == FOUND)
        rows.append({"restarts x steps, prior": f"{how.restarts} x {how.steps}, {how.prior:g}",
                     **{key: value for key, value in found.items() if key != "hand"},
                     "given digits refused": f"{result['given digits refused']} of {result['given digits']}",
                     "p95 ms": f"{result['inversion ms']['p95']:.0f}",
                     "measurement s": f"{time.perf_counter() - started:.0f}"})
        print(markdown_table(rows[-1:]), flush=True)
    text = (f"# Searching for a visitor's hand: inversion settings side by side\n\nWritten by `python -m "
            f"studies.hand_study` ({torch.get_num_threads()} torch threads); the first row is what ships. Each row "
            "is `python -m kepkreator.evaluate cgan`'s own-hand measurement (kepkreator/evaluation/hand_metrics.py) "
            "with that setting.\n\n" + markdown_table(rows) + "\n")
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
