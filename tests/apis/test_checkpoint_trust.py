"""init_detector and Pretrained init refuse checkpoints that carry code; num_classes follows
classes in init_detector."""

from __future__ import annotations

import logging

import pytest
import torch

from detbox.apis import init_detector
from detbox.config import Config
from detbox.models.backbones import ResNet
from detbox.utils.safe_load import UnsafeCheckpointError
from tests.conftest import REPO
from tests.utils.checkpoint_payloads import save_malicious

TINY = str(REPO / "configs/retinanet/retinanet_r18_fpn_tiny_1x_coco.py")


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch):
    monkeypatch.delenv("DETBOX_TRUST_CHECKPOINTS", raising=False)


@pytest.fixture(scope="module")
def weights():
    with pytest.warns(UserWarning, match="using COCO's"):
        return init_detector(TINY).state_dict()


def test_init_detector_refuses_a_payload_and_loads_it_when_trusted(tmp_path, weights):
    marker = tmp_path / "marker"
    path = save_malicious(tmp_path / "downloaded.pth", marker, weights, CLASSES=("a",) * 80)
    with pytest.raises(UnsafeCheckpointError, match="trust_checkpoint=True") as err:
        init_detector(TINY, str(path))
    assert str(path) in str(err.value) and not marker.exists()
    model = init_detector(TINY, str(path), trust_checkpoint=True)
    assert marker.exists()
    torch.testing.assert_close(model.state_dict()["bbox_head.retina_cls.weight"],
                               weights["bbox_head.retina_cls.weight"])


@pytest.mark.parametrize("prefix", [None, "backbone."])
def test_pretrained_init_refuses_a_payload(tmp_path, monkeypatch, prefix):
    marker = tmp_path / "marker"
    net = ResNet(18)
    state = net.state_dict() if prefix is None else {
        f"backbone.{k}": v for k, v in net.state_dict().items()}
    path = save_malicious(tmp_path / "backbone.pth", marker, state)
    init_cfg = dict(type="Pretrained", checkpoint=str(path), prefix=prefix)
    with pytest.raises(UnsafeCheckpointError):
        ResNet(18, init_cfg=init_cfg).init_weights()
    assert not marker.exists()
    monkeypatch.setenv("DETBOX_TRUST_CHECKPOINTS", "1")
    loaded = ResNet(18, init_cfg=init_cfg)
    loaded.init_weights()
    assert marker.exists()
    torch.testing.assert_close(loaded.conv1.weight, net.conv1.weight)


def test_init_detector_sets_num_classes_from_the_config_classes(caplog):
    cfg = Config.fromfile(TINY)
    cfg.data.test.classes = ("cat", "dog")
    with caplog.at_level(logging.INFO, logger="detbox"):
        model = init_detector(cfg)
    assert model.bbox_head.num_classes == 2 and model.CLASSES == ("cat", "dog")
    assert "num_classes 80 -> 2 from data.test.classes (bbox_head)" in caplog.text
    cfg.auto_num_classes = False
    assert init_detector(cfg).bbox_head.num_classes == 80
