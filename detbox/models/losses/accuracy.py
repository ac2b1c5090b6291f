"""Top-k classification accuracy in percent (MMDetection v2's ``accuracy`` / ``Accuracy``).

>>> import torch
>>> pred = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
>>> accuracy(pred, torch.tensor([1, 1, 1]))
tensor([66.6667])
"""

from __future__ import annotations

from typing import Union

from torch import Tensor, nn

__all__ = ["accuracy", "Accuracy"]

TopK = Union[int, tuple]


def accuracy(pred: Tensor, target: Tensor, topk: TopK = 1,
             thresh: float | None = None) -> Tensor | list[Tensor]:
    """Percentage of samples whose target is among the ``k`` highest scores.

    Args:
        pred: ``Tensor[N, C]`` scores.
        target: ``Tensor[N]`` class indices.
        topk: an int, or a tuple of ints for several accuracies at once.
        thresh: if given, a hit also needs its score ``> thresh``.

    Returns:
        A ``Tensor[1]`` for an int ``topk``, else a list of them (``0.`` scalars for empty
        input).
    """
    if not isinstance(topk, (int, tuple)):
        raise AssertionError(f"topk must be an int or a tuple, got {type(topk).__name__}")
    return_single = isinstance(topk, int)
    topk = (topk,) if return_single else topk
    maxk = max(topk)
    if pred.size(0) == 0:
        accu = [pred.new_tensor(0.0) for _ in range(len(topk))]
        return accu[0] if return_single else accu
    if not (pred.ndim == 2 and target.ndim == 1 and pred.size(0) == target.size(0)):
        raise AssertionError(f"accuracy needs pred (N, C) and target (N,), got "
                             f"{tuple(pred.shape)} and {tuple(target.shape)}")
    if maxk > pred.size(1):
        raise AssertionError(f"maxk {maxk} exceeds pred dimension {pred.size(1)}")
    pred_value, pred_label = pred.topk(maxk, dim=1)
    pred_label = pred_label.t()  # [maxk, N]
    correct = pred_label.eq(target.view(1, -1).expand_as(pred_label))
    if thresh is not None:
        correct = correct & (pred_value > thresh).t()
    res = []
    for k in topk:
        correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
        res.append(correct_k.mul_(100.0 / pred.size(0)))
    return res[0] if return_single else res


class Accuracy(nn.Module):
    """Module form of :func:`accuracy`.

    Args:
        topk: the ``k`` (or ks) to report.
        thresh: minimum score of a hit.
    """

    def __init__(self, topk: TopK = (1,), thresh: float | None = None) -> None:
        super().__init__()
        self.topk = topk
        self.thresh = thresh

    def forward(self, pred: Tensor, target: Tensor) -> Tensor | list[Tensor]:
        """Accuracies of ``pred`` (``Tensor[N, C]``) against ``target`` (``Tensor[N]``)."""
        return accuracy(pred, target, self.topk, self.thresh)
