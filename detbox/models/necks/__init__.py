"""Necks; importing this package registers them in ``MODELS``.

A config's ``neck`` may be a list of neck configs applied in sequence; the detector builds
that (not the necks).

To add a neck inside the package, put it in a file here, decorate the class with
``@MODELS.register_module()`` and import it below (``bifpn.py`` is an example). A neck of your
own outside the package needs no change here: see ``configs/atss/README.md``.
"""

from .bifpn import BIFPN, BiFPN
from .channel_mapper import ChannelMapper
from .ct_resnet_neck import CTResNetNeck
from .dilated_encoder import DilatedEncoder
from .dyhead import DyHead
from .fpn import FPN
from .nasfcos_fpn import NASFCOS_FPN
from .pafpn import PAFPN
from .ssd_neck import SSDNeck
from .yolo_neck import YOLOV3Neck
from .yolox_pafpn import YOLOXPAFPN

__all__ = [
    "BIFPN", "BiFPN", "ChannelMapper", "DilatedEncoder", "CTResNetNeck", "DyHead", "FPN",
    "NASFCOS_FPN", "PAFPN", "SSDNeck", "YOLOV3Neck", "YOLOXPAFPN",
]
