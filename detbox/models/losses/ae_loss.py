"""``AssociativeEmbeddingLoss``: CornerNet's pull / push losses that group corners.

For the ``N`` ground-truth boxes of an image with top-left / bottom-right embeddings
``e_tl``, ``e_br`` (``M`` channels) and their mean ``e``::

    pull = sum_n |e_tl[n] - e[n]|^2 + |e_br[n] - e[n]|^2  / N
    push = sum_{n != m} relu(1 - |sum_c (e[n] - e[m])|)   / (N (N - 1))   (0 when N <= 1)

>>> import torch
>>> tl, br = torch.zeros(1, 2, 2), torch.ones(1, 2, 2)
>>> pull, push = ae_loss_per_image(tl, br, [[[0, 0], [1, 1]]])
>>> pull.item(), push.item()
(0.5, 0.0)
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

__all__ = ["AssociativeEmbeddingLoss", "ae_loss_per_image"]

Match = Sequence[Sequence[Sequence[int]]]  # per box [[tl_y, tl_x], [br_y, br_x]]


def ae_loss_per_image(tl_preds: Tensor, br_preds: Tensor, match: Match
                      ) -> tuple[Tensor, Tensor]:
    """Pull and push losses of one image (embeddings ``Tensor[M, H, W]``)."""
    if len(match) == 0:
        zero = tl_preds.sum() * 0.0
        return zero, zero
    tl = torch.cat([tl_preds[:, ty, tx].view(-1, 1) for (ty, tx), _ in match])  # [N*M, 1]
    br = torch.cat([br_preds[:, by, bx].view(-1, 1) for _, (by, bx) in match])
    mean = (tl + br) / 2.0
    n, m = mean.size()
    pull = ((tl - mean).pow(2) + (br - mean).pow(2)).sum() / n
    diff = mean.expand((n, n, m)).permute(1, 0, 2) - mean  # [n, n, m]: mean[i] - mean[j]
    off_diag = 1 - torch.eye(n).type_as(mean)
    conf = off_diag * (1 - diff.sum(-1).abs())
    push = F.relu(conf).sum() / (n * (n - 1)) if n > 1 else tl_preds.sum() * 0.0
    return pull, push


@MODELS.register_module()
class AssociativeEmbeddingLoss(nn.Module):
    """Weighted pull and push losses summed over the images of a batch.

    Args:
        pull_weight: weight of the pull loss.
        push_weight: weight of the push loss.
    """

    def __init__(self, pull_weight: float = 0.25, push_weight: float = 0.25) -> None:
        super().__init__()
        self.pull_weight = pull_weight
        self.push_weight = push_weight

    def forward(self, pred: Tensor, target: Tensor, match: Sequence[Match]
                ) -> tuple[Tensor, Tensor]:
        """``pred`` / ``target``: top-left / bottom-right embeddings ``Tensor[B, M, H, W]``;
        ``match``: per image, per box ``[[tl_y, tl_x], [br_y, br_x]]``."""
        pull_all: Tensor | float = 0.0
        push_all: Tensor | float = 0.0
        for i in range(pred.size(0)):
            pull, push = ae_loss_per_image(pred[i], target[i], match[i])
            pull_all = pull_all + self.pull_weight * pull
            push_all = push_all + self.push_weight * push
        return pull_all, push_all
