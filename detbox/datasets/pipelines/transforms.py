"""v2's ``mmdet.datasets.pipelines.transforms``: its geometric, photometric, cropping and
mixing transforms, which detbox keeps in several files."""

from ..transforms.affine import *  # noqa: F401,F403
from ..transforms.albu import *  # noqa: F401,F403
from ..transforms.center_crop import *  # noqa: F401,F403
from ..transforms.cropping import *  # noqa: F401,F403
from ..transforms.geometric import *  # noqa: F401,F403
from ..transforms.mixing import *  # noqa: F401,F403
from ..transforms.photometric import *  # noqa: F401,F403
