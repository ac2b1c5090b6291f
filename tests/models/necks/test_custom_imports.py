"""A user's own neck, outside the package, used by a config through ``custom_imports``.

The way ``configs/atss/README.md`` documents: a module ``my_modules/my_neck.py`` next to the
config registers ``MyNeck`` with ``@MODELS.register_module()``; the config names it in
``custom_imports``; loading the config imports it, and the model builds and runs with it.
"""

import sys
import textwrap

import torch

from detbox.apis.config import load_config
from detbox.models.builder import build_detector
from detbox.registry import MODELS
from tests.conftest import REPO

NECK = '''
    import torch.nn.functional as F
    from torch import nn

    from detbox.models.base_module import BaseModule
    from detbox.registry import MODELS


    @MODELS.register_module()
    class MyTestNeck(BaseModule):
        """1x1 convs to out_channels, then extra levels by stride-2 pooling."""

        def __init__(self, in_channels, out_channels, num_outs, init_cfg=None):
            super().__init__(init_cfg)
            self.convs = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in in_channels)
            self.num_outs = num_outs

        def forward(self, inputs):
            outs = [conv(x) for conv, x in zip(self.convs, inputs)]
            while len(outs) < self.num_outs:
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            return tuple(outs)
'''

CONFIG = f'''
_base_ = '{REPO / "configs/retinanet/retinanet_r18_fpn_tiny_1x_coco.py"}'
custom_imports = dict(imports=['my_modules.my_neck'], allow_failed_imports=False)
model = dict(
    neck=dict(_delete_=True, type='MyTestNeck', in_channels=[128, 256, 512], out_channels=64,
              num_outs=5),
    backbone=dict(out_indices=(1, 2, 3)))
'''


def test_user_neck_from_a_folder_outside_the_package(tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n == "my_modules" or n.startswith("my_modules.")]:
        del sys.modules[name]  # another test may have imported a package of this name
    (tmp_path / "my_modules").mkdir()
    (tmp_path / "my_modules" / "__init__.py").write_text("")
    (tmp_path / "my_modules" / "my_neck.py").write_text(textwrap.dedent(NECK))
    config = tmp_path / "retinanet_r18_myneck_tiny.py"
    config.write_text(CONFIG)
    monkeypatch.chdir(tmp_path.parent)  # found next to the config, not via the cwd
    assert "MyTestNeck" not in MODELS
    try:
        cfg = load_config(config)
        assert "MyTestNeck" in MODELS
        model = build_detector(cfg.model)
        assert type(model.neck).__name__ == "MyTestNeck"
        assert type(model.neck).__module__ == "my_modules.my_neck"
        model.eval()
        with torch.no_grad():
            feats = model.extract_feat(torch.zeros(1, 3, 64, 64))
        assert [f.shape[-1] for f in feats] == [8, 4, 2, 1, 1]
    finally:
        MODELS._modules.pop("MyTestNeck", None)
        for name in [n for n in sys.modules if n == "my_modules" or n.startswith("my_modules.")]:
            del sys.modules[name]
