"""``BaseDetector``: the v2 entry points every detector shares.

Call order:

- training: ``train_step(batch, optimizer)`` -> ``forward(**batch)`` -> ``forward_train`` ->
  loss dict -> ``_parse_losses`` -> ``dict(loss, log_vars, num_samples)``;
- testing: ``forward(img=[...], img_metas=[[...]], return_loss=False)`` -> ``forward_test`` ->
  ``simple_test`` (one augmentation) or ``aug_test`` (several).
"""

from __future__ import annotations

from abc import abstractmethod
from collections import OrderedDict
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ..base_module import BaseModule


class BaseDetector(BaseModule):
    """Base class of detectors (MMDetection v2 interface)."""

    def __init__(self, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        self.fp16_enabled = False
        self.channels_last = False

    def use_channels_last(self, enabled: bool = True) -> BaseDetector:
        """Keep weights and inputs in NHWC layout (faster oneDNN convolutions on CPU)."""
        self.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)
        self.channels_last = enabled
        return self

    def prepare_input(self, img: Tensor) -> Tensor:
        """``img`` in the memory layout the model uses (see :meth:`use_channels_last`)."""
        if self.channels_last:
            return img.contiguous(memory_format=torch.channels_last)
        return img

    @property
    def with_neck(self) -> bool:
        return getattr(self, "neck", None) is not None

    @property
    def with_shared_head(self) -> bool:
        return hasattr(self, "roi_head") and self.roi_head.with_shared_head

    @property
    def with_bbox(self) -> bool:
        return (hasattr(self, "roi_head") and self.roi_head.with_bbox) or (
            getattr(self, "bbox_head", None) is not None)

    @property
    def with_mask(self) -> bool:
        return hasattr(self, "roi_head") and self.roi_head.with_mask

    @abstractmethod
    def extract_feat(self, imgs: Tensor) -> Any:
        """Features of a batch of images ``Tensor[B, 3, H, W]``."""

    def extract_feats(self, imgs: list[Tensor]) -> list:
        """Features of each augmentation's batch."""
        return [self.extract_feat(img) for img in imgs]

    def forward_train(self, imgs: Tensor, img_metas: list[dict], **kwargs: Any) -> dict:
        """Record the padded batch shape in every meta, as v2 does; subclasses add losses."""
        batch_input_shape = tuple(imgs[0].size()[-2:])
        for img_meta in img_metas:
            img_meta["batch_input_shape"] = batch_input_shape
        return {}

    @abstractmethod
    def simple_test(self, img: Tensor, img_metas: list[dict], **kwargs: Any) -> list:
        """Results of one augmentation."""

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]], **kwargs: Any) -> list:
        """Results merged over test-time augmentations."""
        raise NotImplementedError(f"{type(self).__name__} does not support test-time augmentation")

    def forward_test(self, imgs: list[Tensor], img_metas: list[list[dict]], **kwargs: Any) -> list:
        """Dispatch to ``simple_test`` (one augmentation) or ``aug_test``.

        Args:
            imgs: one ``Tensor[B, 3, H, W]`` per augmentation.
            img_metas: one list of per-image metas per augmentation.
        """
        for var, name in ((imgs, "imgs"), (img_metas, "img_metas")):
            if not isinstance(var, list):
                raise TypeError(f"{name} must be a list, but got {type(var)}")
        if len(imgs) != len(img_metas):
            raise ValueError(f"num of augmentations ({len(imgs)}) != num of image meta "
                             f"({len(img_metas)})")
        for img, metas in zip(imgs, img_metas):
            for meta in metas:
                meta["batch_input_shape"] = tuple(img.size()[-2:])
        if len(imgs) == 1:
            if "proposals" in kwargs:
                kwargs["proposals"] = kwargs["proposals"][0]
            return self.simple_test(imgs[0], img_metas[0], **kwargs)
        if imgs[0].size(0) != 1:
            raise ValueError(f"aug test supports batch size 1 only, got {imgs[0].size(0)}")
        return self.aug_test(imgs, img_metas, **kwargs)

    def forward(self, img: Any, img_metas: Any, return_loss: bool = True, **kwargs: Any) -> Any:
        """``forward_train`` when ``return_loss`` else ``forward_test`` (v2 convention)."""
        if return_loss:
            return self.forward_train(img, img_metas, **kwargs)
        return self.forward_test(img, img_metas, **kwargs)

    @staticmethod
    def _parse_losses(losses: dict) -> tuple[Tensor, OrderedDict]:
        """Sum entries whose key contains ``loss``; log each as a float (averaged over ranks)."""
        log_vars: OrderedDict = OrderedDict()
        for name, value in losses.items():
            if isinstance(value, Tensor):
                log_vars[name] = value.mean()
            elif isinstance(value, list):
                log_vars[name] = sum(v.mean() for v in value)
            else:
                raise TypeError(f"{name} is not a tensor or list of tensors")
        loss = sum(v for k, v in log_vars.items() if "loss" in k)
        log_vars["loss"] = loss
        distributed = dist.is_available() and dist.is_initialized()
        if distributed:
            # every rank must log the same keys, or the all_reduce below would hang
            length = torch.tensor(len(log_vars), device=loss.device)
            dist.all_reduce(length)
            if length.item() != len(log_vars) * dist.get_world_size():
                raise AssertionError("loss log variables differ between ranks: rank "
                                     f"{dist.get_rank()} has {', '.join(log_vars)}")
        for name, value in log_vars.items():
            if distributed:
                value = value.data.clone()
                dist.all_reduce(value.div_(dist.get_world_size()))
            log_vars[name] = value.item()
        return loss, log_vars

    def train_step(self, data: dict, optimizer: Any = None) -> dict:
        """One training forward: ``dict(loss, log_vars, num_samples)``; the optimizer hook steps."""
        losses = self(**data)
        loss, log_vars = self._parse_losses(losses)
        return dict(loss=loss, log_vars=log_vars, num_samples=len(data["img_metas"]))

    def val_step(self, data: dict, optimizer: Any = None) -> dict:
        """Validation losses (the ``('val', 1)`` workflow), same form as ``train_step``."""
        return self.train_step(data, optimizer)

    def show_result(self, img: Any, result: Any, score_thr: float = 0.3,
                    bbox_color: Any = (72, 101, 241), text_color: Any = (72, 101, 241),
                    mask_color: Any = None, thickness: int = 2, font_size: int = 13,
                    win_name: str = "", show: bool = False, wait_time: float = 0,
                    out_file: str | None = None) -> Any:
        """Draw ``result`` (a list over classes of ``ndarray[n, 5]``) on ``img`` (v2's API).

        ``img`` is a BGR array or a path; class names are ``self.CLASSES``. With ``out_file``
        the drawing is written there and not shown. Returns the drawn BGR image.
        """
        from ...visualization import show_det_result

        return show_det_result(img, result, getattr(self, "CLASSES", None), score_thr,
                               bbox_color=bbox_color, text_color=text_color,
                               mask_color=mask_color, thickness=thickness, font_size=font_size,
                               win_name=win_name, show=show and out_file is None,
                               wait_time=wait_time, out_file=out_file)
