"""A face judge without training steps: eigenfaces read the transform, Fisherfaces read the rest.

Fisherfaces (Belhumeur, Hespanha & Kriegman 1997) project a face onto the
directions that best separate one attribute's values (linear discriminant
analysis after PCA) and name the nearest class centroid there; on the Yale
faces, under changing lighting and expression, they had the lowest error rate
of the methods that paper compared. The judge is fitted in closed form on the upright real training
faces only. A face in one of the 8 dihedral transforms is first turned upright:
the transform whose undoing leaves the smallest distance from face space (the
residual after projecting onto the leading eigenfaces; Turk & Pentland 1991)
is the one read, and every other attribute is read from the upright face.

It answers like an AttributeClassifier, one score vector per attribute, so the
same evaluation code reads with either; the scores are negative squared distances.
"""
from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from kepkreator.data.transforms import TRANSFORMS, dihedral, undo
from kepkreator.models.gcn import HUB_KWARGS, SchemaPairs, check_schema

TRANSFORM = "transform"
FACE_SPACE_ENERGY = 0.95  # share of the training faces' variance the eigenfaces keep


def discriminant(centred: torch.Tensor, principal_axes: torch.Tensor, labels: torch.Tensor,
                 classes: int) -> torch.Tensor:
    """Fisherface projection (pixels -> classes - 1 directions) of mean-centred, flattened faces whose
    principal axes (rows, by falling variance) are given."""
    # PCA first, to as many directions as keep the within-class scatter invertible (N - c).
    keep = max(1, min(len(centred) - classes, len(principal_axes)))
    pca = principal_axes[:keep].T
    z = centred @ pca
    means = torch.stack([z[labels == c].mean(0) for c in range(classes)])
    within = (z - means[labels]).T @ (z - means[labels])
    counts = torch.bincount(labels, minlength=classes).to(z.dtype)
    between = (means - z.mean(0)).T @ ((means - z.mean(0)) * counts[:, None])
    # Whiten the within-class scatter, then take the leading directions of the between-class scatter.
    ridge = 1e-6 * within.diagonal().mean() * torch.eye(keep, dtype=z.dtype)
    whiten = torch.linalg.inv(torch.linalg.cholesky(within + ridge)).T
    _, vectors = torch.linalg.eigh(whiten.T @ between @ whiten)
    return pca @ whiten @ vectors[:, -(classes - 1):] if classes > 1 else pca[:, :0]


class FisherfaceJudge(nn.Module, PyTorchModelHubMixin, tags=["fisherfaces", "classifier"],
                      pipeline_tag="image-classification", **HUB_KWARGS):
    """Faces in [0, 1] (N x C x H x W) -> {attribute: N x values scores}; the schema must end in "transform"."""

    def __init__(self, schema: SchemaPairs, image_size: int = 64, channels: int = 1, face_components: int = 40):
        super().__init__()
        self.schema = check_schema(schema)
        if list(self.schema)[-1] != TRANSFORM or len(self.schema[TRANSFORM]) != len(TRANSFORMS):
            raise ValueError(f"a face schema ends in the attribute {TRANSFORM!r} with the {len(TRANSFORMS)} transforms")
        self.image_size, self.channels = image_size, channels
        pixels = channels * image_size * image_size
        self.register_buffer("mean_face", torch.zeros(pixels))
        self.register_buffer("eigenfaces", torch.zeros(face_components, pixels))
        for name, values in self.read_attributes().items():
            directions = max(len(values) - 1, 0)
            self.register_buffer(f"projection_{name}", torch.zeros(pixels, directions))
            self.register_buffer(f"centroids_{name}", torch.zeros(len(values), directions))

    def read_attributes(self) -> dict[str, list[str]]:
        return {name: values for name, values in self.schema.items() if name != TRANSFORM}

    @classmethod
    def fit(cls, images: torch.Tensor, attributes: torch.Tensor, schema: SchemaPairs) -> "FisherfaceJudge":
        """Fit on upright faces: uint8 N x C x H x W and their attribute indices in schema order."""
        _, channels, size, _ = images.shape
        faces = images.flatten(1).double() / 255
        mean = faces.mean(0)
        centred = faces - mean
        _, variances, principal_axes = torch.linalg.svd(centred, full_matrices=False)
        energy = variances.square().cumsum(0)
        components = int((energy < FACE_SPACE_ENERGY * energy[-1]).sum()) + 1
        judge = cls(schema, size, channels, components)
        judge.mean_face.copy_(mean)
        judge.eigenfaces.copy_(principal_axes[:components])
        for column, (name, values) in enumerate(judge.read_attributes().items()):
            labels = attributes[:, column]
            missing = sorted(set(range(len(values))) - set(labels.tolist()))
            if missing:
                raise ValueError(f"no upright training face has {name} {[values[m] for m in missing]}")
            projection = discriminant(centred, principal_axes, labels, len(values))
            centroids = torch.stack([(centred[labels == c] @ projection).mean(0) for c in range(len(values))])
            judge.get_buffer(f"projection_{name}").copy_(projection)
            judge.get_buffer(f"centroids_{name}").copy_(centroids)
        return judge.eval()

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        images = images.float()
        upright_candidates = torch.stack([dihedral(images, undo(t)).flatten(1) - self.mean_face
                                          for t in range(len(TRANSFORMS))], dim=1)  # N x 8 x pixels
        coefficients = upright_candidates @ self.eigenfaces.T
        residual = (upright_candidates - coefficients @ self.eigenfaces).square().sum(-1)
        read = residual.argmin(dim=1)
        upright = upright_candidates[torch.arange(len(images)), read]
        scores = {name: -torch.cdist(upright @ self.get_buffer(f"projection_{name}"),
                                     self.get_buffer(f"centroids_{name}")).square()
                  for name in self.read_attributes()}
        return {**scores, TRANSFORM: -residual}
