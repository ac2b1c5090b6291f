"""Pipeline transforms with MMDetection v2 names; importing registers them."""

from .affine import Expand, RandomAffine, RandomShift
from .albu import Albu
from .center_crop import RandomCenterCropPad
from .compose import Compose
from .cropping import CutOut, MinIoURandomCrop, RandomCrop
from .formatting import (
    Collect,
    DefaultFormatBundle,
    ImageToTensor,
    ToDataContainer,
    ToTensor,
    Transpose,
    WrapFieldsToLists,
    to_tensor,
)
from .geometric import Pad, RandomFlip, Resize, SegRescale
from .loading import (
    FilterAnnotations,
    LoadAnnotations,
    LoadImageFromFile,
    LoadImageFromWebcam,
    LoadProposals,
)
from .mixing import MixUp, Mosaic
from .photometric import Normalize, PhotoMetricDistortion, YOLOXHSVRandomAug
from .test_time import AutoAugment, MultiScaleFlipAug

__all__ = [
    "Compose", "LoadImageFromFile", "LoadImageFromWebcam", "LoadAnnotations", "LoadProposals",
    "FilterAnnotations", "Resize", "RandomFlip", "Pad", "RandomCrop", "MinIoURandomCrop",
    "CutOut", "RandomCenterCropPad", "RandomAffine", "RandomShift", "Expand", "Normalize",
    "PhotoMetricDistortion", "YOLOXHSVRandomAug", "Albu", "Mosaic", "MixUp", "to_tensor",
    "ToTensor", "ImageToTensor", "Transpose", "ToDataContainer", "DefaultFormatBundle",
    "Collect", "WrapFieldsToLists", "MultiScaleFlipAug", "AutoAugment", "SegRescale",
]
