"""Inference API: ``init_detector``, ``inference_detector`` and ``show_result``."""

from __future__ import annotations

import copy
import logging
import os
import warnings
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..config import Config
from ..datasets.collate import collate
from ..datasets.transforms import Compose
from ..models.builder import build_detector
from ..visualization import show_det_result
from .config import import_registering_packages

logger = logging.getLogger(__name__)

ImageInput = str | os.PathLike | np.ndarray


def init_detector(config: str | os.PathLike | Config, checkpoint: str | None = None,
                  device: str | torch.device = "cpu", cfg_options: dict | None = None,
                  trust_checkpoint: bool = False) -> nn.Module:
    """Build a detector from a config, load a checkpoint, and put it in eval mode.

    The heads' ``num_classes`` follow the config's ``classes``
    (:func:`~detbox.apis.num_classes.sync_num_classes`). The checkpoint is read without
    running code from it (:mod:`detbox.utils.safe_load`).

    Args:
        config: config file path or a loaded :class:`Config`.
        checkpoint: checkpoint path (or ``torchvision://``-style name, downloaded if needed);
            ``None`` keeps the initial weights.
        device: where the model runs.
        cfg_options: ``{'a.b': value}`` overrides.
        trust_checkpoint: also load checkpoints that hold objects outside the allow-list
            (this runs code from the file: only for files you trust).

    Returns:
        The model, with ``model.cfg`` (the config) and ``model.CLASSES`` set.

    Raises:
        UnsafeCheckpointError: the checkpoint holds other objects than plain data.
        CheckpointError: none of its weights is the model's (a checkpoint of another model).
    """
    from ..utils.safe_load import trusted_checkpoints

    with trusted_checkpoints(trust_checkpoint):
        return _init_detector(config, checkpoint, device, cfg_options)


def _init_detector(config: str | os.PathLike | Config, checkpoint: str | None,
                   device: str | torch.device, cfg_options: dict | None) -> nn.Module:
    import_registering_packages()
    cfg = Config.fromfile(config) if not isinstance(config, Config) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    from .num_classes import sync_num_classes

    note = sync_num_classes(cfg)
    if note:
        logger.info(note)
    if "pretrained" in cfg.model:
        cfg.model.pretrained = None
    elif "init_cfg" in cfg.model.get("backbone", {}):
        cfg.model.backbone.init_cfg = None
    cfg.model.train_cfg = None
    model = build_detector(cfg.model, test_cfg=cfg.get("test_cfg"))
    classes = None
    if checkpoint is not None:
        from ..utils.checkpoint import load_checkpoint

        ckpt = load_checkpoint(model, checkpoint, map_location="cpu")
        classes = (ckpt.get("meta") or {}).get("CLASSES") if isinstance(ckpt, dict) else None
    if classes is None:
        classes = _classes_from_config(cfg)
    model.CLASSES = tuple(classes) if classes is not None else None
    model.cfg = cfg
    place_model(model, device, cfg.get("channels_last"))
    model.eval()
    return model


def place_model(model: nn.Module, device: str | torch.device,
                channels_last: bool | None = None) -> nn.Module:
    """Move ``model`` to ``device``; on CPU also switch it to NHWC memory layout.

    oneDNN convolutions run about 20% faster on channels-last tensors here, with the same
    results to float rounding (the MMDetection parity tests pass either way). ``channels_last``
    (the config key of the same name) forces it on or off.
    """
    model = model.to(device)
    if channels_last is None:
        channels_last = torch.device(device).type == "cpu"
    if channels_last and hasattr(model, "use_channels_last"):
        model.use_channels_last()
    return model


def _classes_from_config(cfg: Config) -> Sequence[str] | None:
    test = cfg.get("data", {}).get("test", {})
    classes = test.get("classes") if isinstance(test, dict) else None
    if classes is not None:
        return classes
    from ..evaluation import get_classes

    warnings.warn("the checkpoint and config name no classes; using COCO's", UserWarning,
                  stacklevel=5)
    return get_classes("coco")


def _test_pipeline(cfg: Config, from_array: bool) -> Compose:
    pipeline = copy.deepcopy(cfg.data.test.pipeline)
    if from_array:
        pipeline[0] = {**pipeline[0], "type": "LoadImageFromWebcam"}
    return Compose(pipeline)


def _prepare(img: ImageInput, pipeline: Compose) -> dict:
    if isinstance(img, np.ndarray):
        data = dict(img=img)
    else:
        data = dict(img_info=dict(filename=str(img)), img_prefix=None)
    return pipeline(data)


def inference_detector(model: nn.Module, imgs: ImageInput | Sequence[ImageInput]) -> Any:
    """Detect objects in one image or a list of images (paths or BGR arrays).

    Images whose padded sizes agree run as one batch (one forward); a list of differently
    sized images runs as one batch per size, so each result equals the image's own result.

    Returns:
        For one image, a list over classes of ``np.ndarray[n, 5]`` (original-image pixels);
        for a list, a list of those.
    """
    single = not isinstance(imgs, (list, tuple))
    images = [imgs] if single else list(imgs)
    if not images:
        return []
    cfg = model.cfg
    device = next(model.parameters()).device
    samples = []
    for img in images:
        pipeline = _test_pipeline(cfg, isinstance(img, np.ndarray))
        samples.append(_prepare(img, pipeline))
    groups: dict[tuple, list[int]] = {}
    for i, sample in enumerate(samples):
        shape = tuple(tuple(t.shape) for t in sample["img"])
        groups.setdefault(shape, []).append(i)
    results: list[Any] = [None] * len(images)
    for indices in groups.values():
        data = collate([samples[i] for i in indices])
        data["img"] = [t.to(device) for t in data["img"]]
        with torch.no_grad():
            out = model(return_loss=False, rescale=True, **data)
        for i, res in zip(indices, out):
            results[i] = res
    return results[0] if single else results


def show_result(img: str | np.ndarray, result: list[np.ndarray],
                class_names: Sequence[str] | None = None, score_thr: float = 0.3,
                bbox_color: Any = "green", text_color: Any = "green", thickness: int = 2,
                font_size: int = 13, show: bool = False, out_file: str | None = None,
                **kwargs: Any) -> np.ndarray:
    """Draw a detection result (a list over classes of ``[n, 5]`` arrays) on an image.

    Returns:
        The drawn BGR image; also written to ``out_file`` when given.
    """
    return show_det_result(img, result, class_names, score_thr, bbox_color=bbox_color,
                           text_color=text_color, thickness=thickness, font_size=font_size,
                           show=show, out_file=out_file, **kwargs)


def show_result_pyplot(model: Any, img: str | np.ndarray, result: list[np.ndarray],
                       score_thr: float = 0.3, title: str = "result", wait_time: float = 0,
                       palette: Any = None, out_file: str | None = None) -> np.ndarray:
    """MMDetection v2's notebook helper: draw ``result`` with ``model.CLASSES`` and show it
    with matplotlib (or write it to ``out_file`` instead).

    Returns:
        The drawn BGR image.
    """
    drawn = show_result(img, result, class_names=getattr(model, "CLASSES", None),
                        score_thr=score_thr, out_file=out_file,
                        **({"bbox_color": palette, "text_color": palette} if palette else {}))
    if out_file is None:
        import matplotlib.pyplot as plt

        plt.figure(title)
        plt.imshow(drawn[..., ::-1])
        plt.axis("off")
        plt.title(title)
        plt.show(block=wait_time == 0)
        if wait_time:
            plt.pause(wait_time)
    return drawn
