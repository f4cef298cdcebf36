"""QMNIST styles: how well the GCN draws (writer, digit, colour, transform) combinations it never saw.

- MSE and PSNR against the real held-out images, beside two baselines that
  need no learning: the mean training image of that digit in that colour and
  transform (every writer), and another image of the same digit by the same
  writer, recoloured and transformed by hand (where the writer wrote one);
- attribute accuracy of the generated held-out images read by an independent
  classifier trained only on real training images (not the cooperating one);
- 0.5 blends of two writers: how often both are in that classifier's writer top-5.
"""
from __future__ import annotations

import torch

from kepkreator.attributes import AttributeModel
from kepkreator.cards import markdown_table
from kepkreator.data.digits import load_qmnist_test
from kepkreator.data.attribute_sets import AttributeSet, mix, two_values
from kepkreator.data.settings import recorded
from kepkreator.data.transforms import colourise, dihedral
from kepkreator.evaluation.shared import (attribute_accuracy, checklist, judge_config, mean_of_matching, per_image_mse,
                                          progress, psnr, readback_note, top_k_accuracy)
from kepkreator.evaluation.figures import blend_target_figure
from kepkreator.hub import load_model, resolve, weights_path
from kepkreator.models.gcn import AttributeClassifier

TARGETS = {"digit": 0.97, "colour": 0.99, "transform": 0.97}
COLOUR_MIX_TARGET = 0.05  # mean absolute error of the ink's share per channel
DIGIT_JUDGE, HANDWRITING = "judge-mnist", "cgan-mnist"  # the digit judge, and the generator it is compared with


def same_writer_baseline(data: AttributeSet, held: AttributeSet, data_dir) -> tuple[torch.Tensor, torch.Tensor]:
    """Another image of the digit by the same writer, put into the held-out colour and transform by hand."""
    digits = load_qmnist_test(data_dir)
    second: dict[tuple[int, int], int] = {}
    seen: set[tuple[int, int]] = set()
    for index, key in enumerate(zip(digits.writers.tolist(), digits.labels.tolist())):
        if key in seen:
            second.setdefault(key, index)
        seen.add(key)
    writer_ids = [int(w) for w in data.schema["writer"]]
    images, found = torch.zeros(held.images.shape), torch.zeros(len(held), dtype=torch.bool)
    for i, (digit, writer, colour, transform) in enumerate(held.attributes.tolist()):
        index = second.get((writer_ids[writer], digit))
        if index is not None:
            grey = digits.images[index].float() / 255
            images[i] = dihedral(colourise(grey, torch.nn.functional.one_hot(torch.tensor(colour), 3)), transform)[0]
            found[i] = True
    return images, found


def evaluate_gcn(args) -> dict:
    """The QMNIST styles net on held-out combinations, blends and colour mixes (`evaluate gcn`)."""
    folder = weights_path(args.weights)
    model = AttributeModel.from_pretrained(folder)
    judge_folder = resolve(args.judge)
    judge_config(args.judge, judge_folder, model.schema,
                 "python -m train.gcn --dataset qmnist --classifier-only (see the README)")
    judge = load_model(AttributeClassifier, judge_folder)
    data = recorded(folder).load(args.data_dir)
    held = data.held_out
    progress(f"drawing {len(held)} held-out combinations and reading them with {args.judge}")
    real = held.images.float() / 255
    generated = model.generate(held.one_hot())

    rows = []
    gen_mse = per_image_mse(generated, real)
    mean_mse = per_image_mse(mean_of_matching(data.train, held, [0, 2, 3]), real)  # same digit, colour, transform
    hand, found = same_writer_baseline(data, held, args.data_dir)
    hand_mse = per_image_mse(hand[found], real[found])
    for split in (1, 2):
        mask = held.split == split
        rows.append({"held-out images": f"{held.split_names[split]} ({int(mask.sum())})",
                     "GCN MSE": f"{gen_mse[mask].mean():.4f}", "GCN PSNR": f"{psnr(gen_mse[mask]).mean():.2f} dB",
                     "digit-mean MSE": f"{mean_mse[mask].mean():.4f}",
                     "digit-mean PSNR": f"{psnr(mean_mse[mask]).mean():.2f} dB",
                     "same-writer MSE": f"{hand_mse[mask[found]].mean():.4f}",
                     "same-writer PSNR": f"{psnr(hand_mse[mask[found]]).mean():.2f} dB"})

    accuracy_rows, checks = attribute_accuracy(judge, generated, real, held.attributes, TARGETS, top5=("writer",))

    progress("writer blends, colour mixes and digits in a writer's hand")
    blend_share, blends = writer_blends(model, judge, data, args.seed)
    mix_error = colour_mix_error(model, args.seed)
    legibility = digit_legibility(model, args.seed)
    checks.append((f"colour mixes: ink share per channel within {COLOUR_MIX_TARGET} of the weights (mean absolute "
                   "error)", mix_error <= COLOUR_MIX_TARGET, f"{mix_error:.3f}"))
    checks.append((f"digits in a writer's hand read by `{DIGIT_JUDGE}` as well as the handwriting cGAN's",
                   legibility["gcn"] >= legibility["cgan"],
                   f"{100 * legibility['gcn']:.2f}% vs {100 * legibility['cgan']:.2f}%"))
    readback = {name: shares["real"][1] for name, shares in
                top_k_accuracy(model.classifier, generated, real, held.attributes).items()}
    kinds = ", ".join(f"{int((held.split == s).sum())} {held.split_names[s]}" for s in (1, 2))
    notes = (f"Held-out combinations: {len(held)} images ({kinds}); "
             f"the same-writer baseline covers {int(found.sum())} of them "
             "(writers with a second image of the digit).\n\n"
             "Attributes of the held-out combinations, read by the independent classifier "
             f"`{args.judge}` (trained on real training images only):\n\n"
             + markdown_table(accuracy_rows) + "\n\n"
             + checklist(checks)
             + f"\n\nBlends: at 0.5 writer A + 0.5 writer B, both writers are in the classifier's writer top-5 "
             f"for {100 * blend_share:.1f}% of {blends} blends "
             f"(random pairs, digits, colours and transforms, seed {args.seed}).\n\n"
             f"Colour mixes: for {MIXES} random convex mixes of red, green and blue (random writers, digits and "
             f"transforms), the generated ink's share in each channel is off the mix's weight by {mix_error:.3f} on "
             f"average (0: exact).\n\n"
             f"Digits as \"write a number in this hand\" draws them (every writer x every digit, upright, red), "
             f"read by the digit judge `{DIGIT_JUDGE}`: {100 * legibility['gcn']:.2f}% read right, against "
             f"{100 * legibility['cgan']:.2f}% for as many digits by the handwriting cGAN `{HANDWRITING}` at the "
             f"app's default neatness.\n\n" + readback_note(readback))
    if args.figure:
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        blend_target_figure({args.weights: model}, data, model.generator.image_size, "writer").save(args.figure)
        progress(f"wrote {args.figure}")
    return {"rows": rows, "notes": notes, "attributes": accuracy_rows, "blend_top5_share": blend_share,
            "colour_mix_error": mix_error, "digit_legibility": legibility, "readback": readback}


@torch.no_grad()
def writer_blends(model: AttributeModel, judge: AttributeClassifier, data: AttributeSet, seed: int,
                  count: int = 500) -> tuple[float, int]:
    rng = torch.Generator().manual_seed(seed)
    sizes = [len(v) for v in data.schema.values()]
    digit, colour, transform = (torch.randint(0, sizes[i], (count,), generator=rng) for i in (0, 2, 3))
    a, b = two_values(count, sizes[1], rng)
    writer = mix(a, b, 0.5, sizes[1])
    one_hot = lambda idx, n: torch.nn.functional.one_hot(idx, n).float()
    vectors = torch.cat([one_hot(digit, sizes[0]), writer, one_hot(colour, sizes[2]), one_hot(transform, sizes[3])], 1)
    top5 = judge(model.generate(vectors))["writer"].topk(5, dim=1).indices
    both = (top5 == a[:, None]).any(dim=1) & (top5 == b[:, None]).any(dim=1)
    return both.double().mean().item(), count



MIXES = 500


def random_vectors(model: AttributeModel, count: int, rng: torch.Generator, colour: torch.Tensor) -> torch.Tensor:
    """One-hot digit, writer and transform at random, with the given colour rows."""
    sizes = {name: len(values) for name, values in model.schema.items()}
    parts = {name: torch.nn.functional.one_hot(torch.randint(0, size, (count,), generator=rng), size).float()
             for name, size in sizes.items()}
    parts["colour"] = colour
    return torch.cat([parts[name] for name in model.schema], dim=1)


@torch.no_grad()
def colour_mix_error(model: AttributeModel, seed: int, count: int = MIXES) -> float:
    """Mean absolute difference between a random convex colour mix's weights and the generated ink's share in
    each channel. The weights are Dirichlet(1, 1, 1): normalised exponential draws, seeded."""
    rng = torch.Generator().manual_seed(seed)
    weights = -torch.rand(count, 3, generator=rng).clamp(min=1e-12).log()
    weights = weights / weights.sum(dim=1, keepdim=True)
    images = model.generate(random_vectors(model, count, rng, weights))
    share = images.sum(dim=(2, 3)) / images.sum(dim=(1, 2, 3)).clamp(min=1e-6)[:, None]
    return (share - weights).abs().mean().item()


@torch.no_grad()
def digit_legibility(model: AttributeModel, seed: int) -> dict[str, float]:
    """Accuracy of the digit judge on the GCN's digits (every writer x every digit, upright, red, the ink whatever
    its colour) and on as many digits by the handwriting cGAN at the app's default neatness."""
    from kepkreator.handwriting import GANGlyphs, Style, on_paper
    from kepkreator.models.judge import Judge

    judge = load_model(Judge, DIGIT_JUDGE)
    writers, digits = len(model.schema["writer"]), len(model.schema["digit"])
    vectors = torch.cat([model.vector(digit=d, writer=w, colour="red", transform=model.schema["transform"][0])
                         for w in model.schema["writer"] for d in model.schema["digit"]])
    labels = torch.arange(digits).repeat(writers)
    gcn = model.generate(vectors).amax(dim=1, keepdim=True)
    cgan = GANGlyphs.from_pretrained(HANDWRITING).draw(labels, Style(seed=seed, variation=1.0, neatness=0.5))
    read = lambda images: (judge.read(on_paper(images) * 2 - 1)[0].argmax(dim=1) == labels).double().mean().item()
    return {"gcn": read(gcn), "cgan": read(cgan)}
