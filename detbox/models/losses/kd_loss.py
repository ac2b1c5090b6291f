"""Knowledge-distillation loss (``type='KnowledgeDistillationKLDivLoss'``, Hinton et al., 2015).

The student's logits follow the teacher's softened distribution: with temperature ``T``, per
row ``n``::

    loss[n] = T^2 * mean_i KL_i(softmax(teacher[n] / T) || softmax(pred[n] / T))

where ``KL_i = q_i * (log q_i - log p_i)`` (``q`` the teacher's, ``p`` the student's
probabilities); the mean runs over the ``n + 1`` logits of a row, as MMDetection computes it.
LD (localization distillation) applies it to GFL's per-side box distributions.

>>> import torch
>>> same = torch.tensor([[1.0, 2.0, 3.0]])
>>> float(knowledge_distillation_kl_div_loss(same, same, T=10))  # same distribution: 0
0.0
>>> loss = KnowledgeDistillationKLDivLoss(T=1)
>>> round(float(loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 100.0]]))), 4)
0.3466
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weighted_loss

__all__ = ["KnowledgeDistillationKLDivLoss", "knowledge_distillation_kl_div_loss"]


@weighted_loss
def knowledge_distillation_kl_div_loss(pred: Tensor, soft_label: Tensor, T: float,
                                       detach_target: bool = True) -> Tensor:
    """Per-row distillation loss ``Tensor[N]`` of logits ``pred: Tensor[N, K]`` towards the
    teacher's logits ``soft_label: Tensor[N, K]`` at temperature ``T``.

    ``detach_target``: no gradient flows into the teacher's logits.
    Weighted and reduced by :func:`weighted_loss` (``weight``, ``reduction``, ``avg_factor``).
    """
    if pred.size() != soft_label.size():
        raise ValueError(f"KnowledgeDistillationKLDivLoss: pred {tuple(pred.shape)} and "
                         f"soft_label {tuple(soft_label.shape)} differ in shape")
    target = F.softmax(soft_label / T, dim=1)
    if detach_target:
        target = target.detach()
    kl = F.kl_div(F.log_softmax(pred / T, dim=1), target, reduction="none")  # [N, K]
    return kl.mean(1) * (T * T)


@MODELS.register_module()
class KnowledgeDistillationKLDivLoss(nn.Module):
    """KL-divergence distillation loss.

    Args:
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
        T: temperature (at least 1).
    """

    def __init__(self, reduction: str = "mean", loss_weight: float = 1.0, T: float = 10) -> None:
        super().__init__()
        if T < 1:
            raise ValueError(f"KnowledgeDistillationKLDivLoss: T must be >= 1, got {T}")
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.T = T

    def forward(self, pred: Tensor, soft_label: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None, reduction_override: str | None = None,
                **kwargs: Any) -> Tensor:
        """Loss of logits ``pred: Tensor[N, K]`` against the teacher's ``soft_label``."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * knowledge_distillation_kl_div_loss(
            pred, soft_label, weight, reduction=reduction, avg_factor=avg_factor, T=self.T)
