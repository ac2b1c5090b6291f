"""BaseModule.init_weights order (own init_cfg, then children), Pretrained stop, containers."""

import pytest
import torch
from torch import nn

from detbox.config import ConfigDict
from detbox.models.base_module import BaseModule, ModuleDict, ModuleList, Sequential
from detbox.models.layers import ConvModule


class Leaf(BaseModule):
    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.conv = nn.Conv2d(1, 1, 1)


PARENT_CFG = dict(type="Constant", val=1, layer="Conv2d")


class Parent(BaseModule):
    def __init__(self, child_cfg=None, init_cfg=PARENT_CFG):
        super().__init__(init_cfg)
        self.own = nn.Conv2d(1, 1, 1)
        self.child = Leaf(child_cfg)


def test_children_init_after_parent_so_their_config_wins():
    net = Parent(child_cfg=dict(type="Constant", val=2, layer="Conv2d"))
    net.init_weights()
    assert net.own.weight.item() == 1 and net.child.conv.weight.item() == 2
    assert net.is_init and net.child.is_init
    # A child without init_cfg keeps what the parent gave it.
    net = Parent()
    net.init_weights()
    assert net.child.conv.weight.item() == 1


def test_init_weights_twice_warns_and_keeps_weights():
    net = Parent()
    net.init_weights()
    with torch.no_grad():
        net.own.weight.fill_(5)
    with pytest.warns(UserWarning, match="more than once"):
        net.init_weights()
    assert net.own.weight.item() == 5


def test_pretrained_stops_children_from_overwriting(tmp_path):
    src = Parent()
    with torch.no_grad():
        src.own.weight.fill_(7)
        src.child.conv.weight.fill_(8)
    path = tmp_path / "w.pth"
    torch.save(src.state_dict(), path)
    net = Parent(child_cfg=dict(type="Constant", val=2, layer="Conv2d"),
                 init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    net.init_weights()
    assert net.own.weight.item() == 7 and net.child.conv.weight.item() == 8
    assert not net.child.is_init


def test_plain_containers_are_skipped_ours_recurse():
    cfg = dict(type="Constant", val=3, layer="Conv2d")
    plain = Parent(init_cfg=None)
    plain.extra = nn.Sequential(Leaf(cfg))
    plain.init_weights()
    assert plain.extra[0].conv.weight.item() != 3
    for container in (Sequential(Leaf(cfg)), ModuleList([Leaf(cfg)]), ModuleDict({"0": Leaf(cfg)})):
        container.init_weights()
        assert container["0" if isinstance(container, ModuleDict) else 0].conv.weight.item() == 3
    seq = Sequential(nn.Conv2d(1, 1, 1), init_cfg=dict(type="Constant", val=4, layer="Conv2d"))
    seq.init_weights()
    assert seq[0].weight.item() == 4 and len(seq) == 1


def test_conv_module_child_reinitialises_itself():
    # A ConvModule directly under a BaseModule runs its own kaiming init after the parent's
    # init_cfg (mmcv behaviour), so the parent's Constant does not stick on it.
    class Net(BaseModule):
        def __init__(self):
            super().__init__(dict(type="Constant", val=0.5, layer="Conv2d"))
            self.block = ConvModule(8, 8, 3)

    net = Net()
    net.init_weights()
    assert not torch.all(net.block.conv.weight == 0.5)


def test_init_cfg_is_copied_and_shown():
    cfg = ConfigDict(type="Constant", val=1, layer="Conv2d")
    leaf = Leaf(cfg)
    cfg.val = 9
    leaf.init_weights()
    assert leaf.conv.weight.item() == 1
    assert "init_cfg={'type': 'Constant', 'val': 1" in repr(leaf)
    assert "init_cfg" not in repr(Leaf())
