"""MMDetection v2's public names at their v2 module paths (``mmdet.X`` -> ``detbox.X``)."""

import importlib

import pytest

NAMES = {
    "detbox.models": ["build_detector", "build_backbone", "build_neck", "build_head",
                      "build_loss", "build_roi_extractor", "build_shared_head", "MODELS",
                      "BACKBONES", "NECKS", "HEADS", "ROI_EXTRACTORS", "SHARED_HEADS", "LOSSES",
                      "DETECTORS"],
    "detbox.models.builder": ["MODELS", "BACKBONES", "NECKS", "HEADS", "ROI_EXTRACTORS",
                              "SHARED_HEADS", "LOSSES", "DETECTORS", "build_detector",
                              "build_backbone", "build_neck", "build_head", "build_loss"],
    "detbox.datasets": ["build_dataset", "build_dataloader", "replace_ImageToTensor",
                        "get_loading_pipeline", "DATASETS", "PIPELINES", "CocoDataset",
                        "CustomDataset", "VOCDataset"],
    "detbox.datasets.builder": ["build_dataset", "build_dataloader", "DATASETS", "PIPELINES"],
    "detbox.datasets.pipelines": ["Compose", "LoadImageFromFile", "LoadAnnotations", "Resize",
                                  "RandomFlip", "Normalize", "Pad", "DefaultFormatBundle",
                                  "Collect", "ImageToTensor", "MultiScaleFlipAug", "to_tensor",
                                  "PIPELINES"],
    "detbox.datasets.pipelines.transforms": ["Resize", "RandomFlip", "Pad", "Normalize",
                                             "RandomCrop", "MinIoURandomCrop", "Expand",
                                             "PhotoMetricDistortion", "Mosaic", "MixUp"],
    "detbox.datasets.pipelines.formatting": ["DefaultFormatBundle", "Collect", "to_tensor"],
    "detbox.datasets.pipelines.loading": ["LoadImageFromFile", "LoadAnnotations"],
    "detbox.apis": ["init_detector", "inference_detector", "show_result_pyplot",
                    "single_gpu_test", "multi_gpu_test", "train_detector", "init_random_seed",
                    "set_random_seed"],
    "detbox.core": ["bbox2result", "multiclass_nms", "bbox_overlaps", "build_assigner",
                    "build_sampler", "build_bbox_coder", "build_anchor_generator",
                    "build_prior_generator", "bbox2roi", "distance2bbox", "multi_apply",
                    "reduce_mean", "eval_map", "get_classes", "BitmapMasks", "PolygonMasks",
                    "encode_mask_results"],
    "detbox.utils": ["get_root_logger", "collect_env"],
}


@pytest.mark.parametrize("module,name", [(m, n) for m, names in NAMES.items() for n in names])
def test_v2_name_imports(module, name):
    value = getattr(importlib.import_module(module), name)
    assert value is not None


def test_registries_are_the_one_flat_registry():
    from detbox.models import builder
    from detbox.registry import MODELS

    for name in ("BACKBONES", "NECKS", "HEADS", "ROI_EXTRACTORS", "SHARED_HEADS", "LOSSES",
                 "DETECTORS"):
        assert getattr(builder, name) is MODELS


def test_core_builders_build_task_modules():
    from detbox.core import build_anchor_generator, build_assigner, build_sampler

    gen = build_anchor_generator(dict(type="AnchorGenerator", scales=[8], ratios=[1.0],
                                      strides=[4]))
    assert gen.num_base_anchors == [1]
    assert type(build_assigner(dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.4))
                ).__name__ == "MaxIoUAssigner"
    assert type(build_sampler(dict(type="PseudoSampler"))).__name__ == "PseudoSampler"


def test_replace_image_to_tensor_inside_multiscale_flip_aug():
    from detbox.datasets import replace_ImageToTensor

    pipeline = [dict(type="LoadImageFromFile"),
                dict(type="MultiScaleFlipAug", img_scale=(64, 64), flip=False,
                     transforms=[dict(type="ImageToTensor", keys=["img"]),
                                 dict(type="Collect", keys=["img"])])]
    with pytest.warns(UserWarning, match="DefaultFormatBundle"):
        out = replace_ImageToTensor(pipeline)
    assert out[1]["transforms"][0] == dict(type="DefaultFormatBundle")
    assert pipeline[1]["transforms"][0]["type"] == "ImageToTensor"  # input untouched
