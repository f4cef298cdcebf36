"""Faces: held-out (identity, condition) pairs drawn by the GCN, and 0.5 identity blends.

- MSE and PSNR against the real held-out faces, beside two baselines that need
  no learning: the mean training face of that identity, and the mean training
  face of that condition (both in the same transform);
- identity and condition accuracy of the generated held-out faces, read by a
  classifier trained only on real training faces;
- at a 0.5 blend of two identities, how often the two are that classifier's top two.
"""
from __future__ import annotations

import torch

from kepkreator.attributes import AttributeModel
from kepkreator.cards import markdown_table
from kepkreator.data.faces import face_styles, read_yale
from kepkreator.evaluation.common import (attribute_accuracy, checklist, mean_of_matching, per_image_mse, psnr,
                                          training_holdout)
from kepkreator.hub import load_model, weights_path
from kepkreator.models.gcn import AttributeClassifier

TARGETS = {"identity": 0.90, "condition": 0.80}


@torch.no_grad()
def identity_blends(model: AttributeModel, judge: AttributeClassifier, seed: int, count: int = 300) -> float:
    rng = torch.Generator().manual_seed(seed)
    sizes = [len(v) for v in model.schema.values()]
    a = torch.randint(0, sizes[0], (count,), generator=rng)
    b = (a + torch.randint(1, sizes[0], (count,), generator=rng)) % sizes[0]
    condition = torch.randint(0, sizes[1], (count,), generator=rng)
    one_hot = lambda idx, n: torch.nn.functional.one_hot(idx, n).float()
    vectors = torch.cat([0.5 * one_hot(a, sizes[0]) + 0.5 * one_hot(b, sizes[0]), one_hot(condition, sizes[1]),
                         one_hot(torch.zeros(count, dtype=torch.long), sizes[2])], dim=1)
    top2 = judge(model.generate(vectors))["identity"].topk(2, dim=1).indices
    return ((top2 == a[:, None]).any(dim=1) & (top2 == b[:, None]).any(dim=1)).double().mean().item()


def evaluate_faces(args) -> dict:
    folder = weights_path(args.weights)
    model = AttributeModel.from_pretrained(folder)
    judge = load_model(AttributeClassifier, args.judge)
    size = model.generator.image_size
    data = face_styles(read_yale(args.data_dir, size=size), holdout=training_holdout(folder), seed=0)
    train, held = data.train, data.held_out
    real = held.images.float() / 255
    generated = model.generate(held.one_hot())
    rows = []
    for name, images in (("GCN", generated), ("identity-mean baseline", mean_of_matching(train, held, [0, 2])),
                         ("condition-mean baseline", mean_of_matching(train, held, [1, 2]))):
        mse = per_image_mse(images, real)
        rows.append({"held-out faces": name, "MSE": f"{mse.mean():.4f}", "PSNR": f"{psnr(mse).mean():.2f} dB"})
    accuracy_rows, checks = attribute_accuracy(judge, generated, real, held.attributes, TARGETS)
    blend_share = identity_blends(model, judge, args.seed)
    pairs = len({tuple(a) for a in held.attributes[:, :2].tolist()})
    notes = (f"{pairs} held-out (identity, condition) pairs x 8 transforms = {len(held)} faces, {size}x{size}.\n\n"
             f"Attributes of the held-out faces read by `{args.judge}` (trained on real training faces only):\n\n"
             + markdown_table(accuracy_rows) + "\n\n"
             + checklist(checks)
             + f"\n\nBlends: at 0.5 identity A + 0.5 identity B, A and B are the classifier's top two identities "
             f"for {100 * blend_share:.1f}% of 300 blends (random pairs and conditions, seed {args.seed}).")
    return {"rows": rows, "notes": notes, "attributes": accuracy_rows, "blend_top2_share": blend_share}
