"""``mmcv`` (1.7 API) as seen by code run through :mod:`detbox.compat`: config, image I/O and
the sub-packages ``cnn``, ``runner``, ``parallel``, ``utils`` and ``ops``."""

from detbox.config import Config, ConfigDict, DictAction
from detbox.datasets.transforms.functional import (
    imdenormalize,
    imflip,
    imfrombytes,
    imnormalize,
    impad,
    impad_to_multiple,
    imrescale,
    imresize,
    rescale_size,
)

from .image import bgr2rgb, imread, imshow, imwrite, rgb2bgr
from .utils import (
    digit_version,
    is_list_of,
    is_seq_of,
    is_str,
    is_tuple_of,
    mkdir_or_exist,
    track_iter_progress,
    track_progress,
)

# The mmcv release whose API this facade mirrors (code that checks versions sees this).
__version__ = "1.7.2"

__all__ = [
    "Config", "ConfigDict", "DictAction", "imread", "imwrite", "imshow", "imfrombytes",
    "imresize", "imrescale", "rescale_size", "imflip", "impad", "impad_to_multiple",
    "imnormalize", "imdenormalize", "bgr2rgb", "rgb2bgr", "is_str", "is_list_of",
    "is_tuple_of", "is_seq_of", "mkdir_or_exist", "track_progress", "track_iter_progress",
    "digit_version",
]
