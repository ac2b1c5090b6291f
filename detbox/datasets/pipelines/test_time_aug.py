"""v2's ``mmdet.datasets.pipelines.test_time_aug``."""

from ..transforms.test_time import *  # noqa: F401,F403
