"""ResNet backbones with MMDetection v2's arguments and state_dict names.

Keys are torchvision's without ``fc``: ``conv1.weight``, ``bn1.*``, ``layer1.0.conv1.weight``,
``layer1.0.bn1.*``, ``layer1.0.downsample.0.weight`` / ``.1.*``; a deep stem is ``stem.0..8``.
So torchvision's ImageNet files (``torchvision://resnet50``) load as they are.

>>> import torch
>>> net = ResNet(18, out_indices=(0, 3)).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 64, 16, 16), (1, 512, 2, 2)]
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import torch.utils.checkpoint as cp
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ResLayer, build_conv_layer, build_norm_layer
from .stage_utils import FrozenStagesMixin

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "ResNetV1d"]

_BN = dict(type="BN")


def _check(condition: bool, message: str) -> None:
    # MMDetection asserts here; keep the exception type, but survive ``python -O``.
    if not condition:
        raise AssertionError(message)


def _reject_plugins(owner: str, plugins: Any) -> None:
    if plugins is not None:
        raise NotImplementedError(
            f"{owner}: plugins are not supported (GeneralizedAttention, NonLocal2d, "
            f"ContextBlock blocks are not implemented). Remove 'plugins' from the backbone "
            f"config.")


def _run(block: nn.Module, forward: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """``forward(x)``, through activation checkpointing when the block asks for it."""
    if block.with_cp and x.requires_grad:
        return cp.checkpoint(forward, x, use_reentrant=False)
    return forward(x)


class BasicBlock(BaseModule):
    """Two 3x3 convs with a shortcut (ResNet-18/34). Submodules: conv1, bn1, conv2, bn2,
    downsample."""

    expansion = 1

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 dilation: int = 1,
                 downsample: nn.Module | None = None,
                 style: str = "pytorch",
                 with_cp: bool = False,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict = _BN,
                 dcn: dict | None = None,
                 plugins: list | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        _check(dcn is None, f"{type(self).__name__} has no deformable conv (MMDetection: 'Not "
               f"implemented yet.'), got dcn={dcn!r}; use a Bottleneck ResNet (depth >= 50) "
               f"or set stage_with_dcn to all False")
        _reject_plugins(type(self).__name__, plugins)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 3, stride=stride,
                                      padding=dilation, dilation=dilation, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.dilation = dilation
        self.style = style
        self.with_cp = with_cp

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    def _inner_forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, inplanes, H, W] -> Tensor[N, planes, H / stride, W / stride]``."""
        return self.relu(_run(self, self._inner_forward, x))


class Bottleneck(BaseModule):
    """1x1, 3x3, 1x1 convs with a shortcut (ResNet-50 and deeper); output ``4 * planes``.

    With ``style='pytorch'`` the stride is on the 3x3 conv (torchvision, "v1.5"); with
    ``'caffe'`` it is on the first 1x1 conv (the original ResNet and Detectron's weights).
    Submodules: conv1, bn1, conv2, bn2, conv3, bn3, relu, downsample.

    With ``dcn=dict(type='DCN' | 'DCNv2', deform_groups=G)`` the 3x3 conv2 is that deformable
    conv (``conv2.weight``, ``conv2.conv_offset.weight`` / ``.bias``, no ``conv2.bias``).
    ``fallback_on_stride=True`` in it keeps a plain conv2 instead. As in MMDetection, the key is
    *taken out* of the ``dcn`` dict by the block that reads it, so of blocks sharing one dict
    (a ResNet's stages share a copy) only the first built falls back; the others get the DCN.
    """

    expansion = 4

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 dilation: int = 1,
                 downsample: nn.Module | None = None,
                 style: str = "pytorch",
                 with_cp: bool = False,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict = _BN,
                 dcn: dict | None = None,
                 plugins: list | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        _check(style in ("pytorch", "caffe"), f"style must be 'pytorch' or 'caffe', got {style!r}")
        _check(dcn is None or isinstance(dcn, dict), f"dcn must be a dict or None, got {dcn!r}")
        _reject_plugins(type(self).__name__, plugins)
        self.inplanes = inplanes
        self.planes = planes
        self.stride = stride
        self.dilation = dilation
        self.style = style
        self.with_cp = with_cp
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.dcn = dcn
        self.with_dcn = dcn is not None
        self.plugins = plugins
        self.with_plugins = False
        self.conv1_stride, self.conv2_stride = (1, stride) if style == "pytorch" else (stride, 1)
        self._build_layers()
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def _conv2_cfg(self) -> dict | None:
        """The conv config of the 3x3 conv(s): ``dcn`` (taking ``fallback_on_stride`` out of
        it), or ``conv_cfg`` when there is no dcn or it falls back."""
        if not self.with_dcn:
            return self.conv_cfg
        if self._take_fallback_on_stride():
            return self.conv_cfg
        _check(self.conv_cfg is None, f"conv_cfg must be None for DCN, got {self.conv_cfg!r}")
        return self.dcn

    def _take_fallback_on_stride(self) -> bool:
        """Pop ``fallback_on_stride`` from ``dcn`` (see the class docstring)."""
        return bool(self.dcn.pop("fallback_on_stride", False))

    def _build_layers(self) -> None:
        """conv1, norm1, conv2, norm2, conv3, norm3."""
        inplanes, planes, dilation = self.inplanes, self.planes, self.dilation
        conv_cfg, norm_cfg = self.conv_cfg, self.norm_cfg
        width, groups = self._width_and_groups()
        out_channels = planes * self.expansion
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, width, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, width, postfix=2)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, out_channels, postfix=3)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, width, kernel_size=1,
                                      stride=self.conv1_stride, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(self._conv2_cfg(), width, width, kernel_size=3,
                                      stride=self.conv2_stride, padding=dilation,
                                      dilation=dilation, groups=groups, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.conv3 = build_conv_layer(conv_cfg, width, out_channels, kernel_size=1, bias=False)
        self.add_module(self.norm3_name, norm3)

    def _width_and_groups(self) -> tuple[int, int]:
        """Channels of the 3x3 conv and its groups (ResNeXt widens and groups it)."""
        return self.planes, 1

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    @property
    def norm3(self) -> nn.Module:
        return getattr(self, self.norm3_name)

    def _inner_forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, inplanes, H, W] -> Tensor[N, 4 * planes, H / stride, W / stride]``."""
        return self.relu(_run(self, self._inner_forward, x))


@MODELS.register_module()
class ResNet(FrozenStagesMixin, BaseModule):
    """ResNet backbone (``type='ResNet'``), returning the outputs of stages ``out_indices``.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input image channels.
        stem_channels: stem output channels; ``base_channels`` if not given.
        base_channels: channels of the first stage's blocks (stage ``i`` has ``2 ** i`` times).
        num_stages: number of stages, 1 to 4.
        strides: stride of each stage.
        dilations: dilation of each stage.
        out_indices: stages whose outputs are returned (0-based).
        style: ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'`` (on the first 1x1).
        deep_stem: three 3x3 convs (``stem``) instead of one 7x7 (``conv1``).
        avg_down: average-pool before the shortcut conv instead of striding it.
        frozen_stages: freeze (no grad, eval mode) the stem for 0 and stages 1..i for i;
            -1 freezes nothing.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config; ``requires_grad=False`` freezes every norm's affine.
        norm_eval: keep batch norms in eval mode (frozen statistics) while training.
        dcn: deformable conv config for the blocks' 3x3 conv2, e.g. ``dict(type='DCNv2',
            deform_groups=1, fallback_on_stride=False)`` (Bottleneck blocks only).
        stage_with_dcn: per stage, whether its blocks use ``dcn`` (one entry per stage).
        plugins: extra blocks inside the residual blocks; not supported (raises).
        with_cp: activation checkpointing in the blocks (less memory, slower).
        zero_init_residual: zero the last norm of each block in the default init (the
            ``ResNet`` blocks only, as in MMDetection).
        pretrained: deprecated; a checkpoint name, becomes ``init_cfg`` ``Pretrained``.
        init_cfg: initialisation; by default Kaiming convs and unit norms.
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int,
                 in_channels: int = 3,
                 stem_channels: int | None = None,
                 base_channels: int = 64,
                 num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 style: str = "pytorch",
                 deep_stem: bool = False,
                 avg_down: bool = False,
                 frozen_stages: int = -1,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict = dict(type="BN", requires_grad=True),  # noqa: B006 (read only)
                 norm_eval: bool = True,
                 dcn: dict | None = None,
                 stage_with_dcn: Sequence[bool] = (False, False, False, False),
                 plugins: list | None = None,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f"invalid depth {depth} for {type(self).__name__}; choose from "
                           f"{sorted(self.arch_settings)}")
        _reject_plugins(type(self).__name__, plugins)
        self.zero_init_residual = zero_init_residual
        _check(not (init_cfg and pretrained),
               "init_cfg and pretrained cannot be specified at the same time")
        block_init_cfg = None
        if isinstance(pretrained, str):
            warnings.warn('DeprecationWarning: pretrained is deprecated, please use "init_cfg" '
                          "instead", stacklevel=2)
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif pretrained is None:
            if init_cfg is None:
                self.init_cfg = [dict(type="Kaiming", layer="Conv2d"),
                                 dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"])]
                block = self.arch_settings[depth][0]
                # Only ResNet's own blocks: ResNeXt's Bottleneck subclass is not zeroed
                # (MMDetection v2 compares the classes with ``is``).
                if zero_init_residual and block is BasicBlock:
                    block_init_cfg = dict(type="Constant", val=0, override=dict(name="norm2"))
                elif zero_init_residual and block is Bottleneck:
                    block_init_cfg = dict(type="Constant", val=0, override=dict(name="norm3"))
        else:
            raise TypeError(f"pretrained must be a str or None, got {pretrained!r}")

        _check(1 <= num_stages <= 4, f"num_stages must be in [1, 4], got {num_stages}")
        _check(len(strides) == len(dilations) == num_stages,
               f"strides {tuple(strides)} and dilations {tuple(dilations)} need one entry per "
               f"stage ({num_stages})")
        _check(max(out_indices) < num_stages,
               f"out_indices {tuple(out_indices)} must be below num_stages={num_stages}")
        self.depth = depth
        self.stem_channels = base_channels if stem_channels is None else stem_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.strides = strides
        self.dilations = dilations
        self.out_indices = out_indices
        self.style = style
        self.deep_stem = deep_stem
        self.avg_down = avg_down
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.with_cp = with_cp
        self.norm_eval = norm_eval
        if dcn is not None:
            _check(isinstance(dcn, dict), f"dcn must be a dict or None, got {dcn!r}")
            _check(len(stage_with_dcn) == num_stages,
                   f"stage_with_dcn {tuple(stage_with_dcn)} needs one entry per stage "
                   f"({num_stages})")
        # One private copy shared by all stages: the blocks take ``fallback_on_stride`` out of
        # it as MMDetection's do (MMDetection pops it from the config itself).
        self.dcn = None if dcn is None else dict(dcn)
        self.stage_with_dcn = stage_with_dcn
        self.plugins = plugins
        self.block, stage_blocks = self.arch_settings[depth]
        self.stage_blocks = stage_blocks[:num_stages]
        self.inplanes = self.stem_channels

        self._make_stem_layer(in_channels, self.stem_channels)
        self.res_layers = []
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2 ** i
            res_layer = self.make_res_layer(
                block=self.block, inplanes=self.inplanes, planes=planes, num_blocks=num_blocks,
                stride=strides[i], dilation=dilations[i], style=style, avg_down=avg_down,
                with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                dcn=self.dcn if stage_with_dcn[i] else None, plugins=None,
                init_cfg=block_init_cfg)
            self.inplanes = planes * self.block.expansion
            layer_name = f"layer{i + 1}"
            self.add_module(layer_name, res_layer)
            self.res_layers.append(layer_name)
        self._freeze_stages()
        self.feat_dim = self.block.expansion * base_channels * 2 ** (len(self.stage_blocks) - 1)

    def make_res_layer(self, **kwargs: Any) -> nn.Module:
        """One stage (a :class:`ResLayer`)."""
        return ResLayer(**kwargs)

    @property
    def norm1(self) -> nn.Module:
        """The stem's norm (without ``deep_stem``)."""
        return getattr(self, self.norm1_name)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        if self.deep_stem:
            half = stem_channels // 2
            layers: list[nn.Module] = []
            for cin, cout, stride in ((in_channels, half, 2), (half, half, 1),
                                      (half, stem_channels, 1)):
                layers += [build_conv_layer(self.conv_cfg, cin, cout, kernel_size=3,
                                            stride=stride, padding=1, bias=False),
                           build_norm_layer(self.norm_cfg, cout)[1],
                           nn.ReLU(inplace=True)]
            self.stem = nn.Sequential(*layers)
        else:
            self.conv1 = build_conv_layer(self.conv_cfg, in_channels, stem_channels,
                                          kernel_size=7, stride=2, padding=3, bias=False)
            self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1)
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            stem = [self.stem] if self.deep_stem else [self.conv1, self.norm1]
            for m in stem:
                m.eval()
                for param in m.parameters():
                    param.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f"layer{i}")
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """``Tensor[N, C, H, W]`` -> the ``out_indices`` stage outputs; stage ``i`` has
        ``base_channels * 2 ** i * expansion`` channels at stride ``4 * prod(strides[:i+1])``."""
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


@MODELS.register_module()
class ResNetV1d(ResNet):
    """ResNet-D (``type='ResNetV1d'``): deep stem and average-pool shortcuts
    (`Bag of Tricks <https://arxiv.org/abs/1812.01187>`_). Takes :class:`ResNet`'s arguments
    except ``deep_stem`` and ``avg_down``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(deep_stem=True, avg_down=True, **kwargs)
