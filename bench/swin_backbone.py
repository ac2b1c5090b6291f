"""Swin-T backbone speed: detbox's ``SwinTransformer`` against torchvision's ``swin_t`` trunk.

Both are Swin-T (96 channels, depths 2-2-6-2, heads 3-6-12-24, 7x7 windows, stochastic depth
0.2) with random weights; torchvision's weights are converted into detbox's (torchvision keeps
the original release's layout, so ``swin_converter`` applies), and the stage-3 features are
compared first (LayerNorm of both, 14x14 at 224 px, where both shift their windows; at the
last 7x7 stage torchvision skips the shift when the window covers the map, MMDetection does
not). Then, side by side in one process, alternating runs: inference (no grad) and training
(forward of all four stages, backward of their sum).

    python bench/swin_backbone.py [--runs 5] [--size 224] [--batch 2] [--threads N]

Prints the median times and the ratio torchvision / detbox (above 1: detbox is faster).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision

from detbox.models.backbones.swin import SwinTransformer
from detbox.models.backbones.swin_converter import swin_converter

SWIN_T = dict(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7,
              drop_path_rate=0.2)


def torchvision_to_original(state_dict: dict) -> dict:
    """torchvision ``swin_t`` (``features.*``) names -> the original release's names."""
    out = {}
    stage_of = {1: 0, 3: 1, 5: 2, 7: 3}  # features index of each stage's blocks
    merge_of = {2: 0, 4: 1, 6: 2}  # features index of the patch merging after stage i
    for key, value in state_dict.items():
        m = re.match(r"features\.(\d+)\.(.*)", key)
        if m is None:
            continue  # norm / head
        index, rest = int(m.group(1)), m.group(2)
        if index == 0:
            new = {"0.weight": "patch_embed.proj.weight", "0.bias": "patch_embed.proj.bias",
                   "2.weight": "patch_embed.norm.weight", "2.bias": "patch_embed.norm.bias"}[rest]
        elif index in stage_of:
            rest = rest.replace("mlp.0.", "mlp.fc1.").replace("mlp.3.", "mlp.fc2.")
            new = f"layers.{stage_of[index]}.blocks.{rest}"
        else:
            new = f"layers.{merge_of[index]}.downsample.{rest}"
        out[new] = value
    return out


def build_pair() -> tuple[torch.nn.Module, SwinTransformer]:
    torch.manual_seed(0)
    tv = torchvision.models.swin_t(weights=None)  # stochastic depth 0.2
    ours = SwinTransformer(**SWIN_T, convert_weights=True)
    converted = {k[len("backbone."):]: v
                 for k, v in swin_converter(torchvision_to_original(tv.state_dict())).items()}
    missing, unexpected = ours.load_state_dict(converted, strict=False)
    assert not unexpected and all(k.startswith("norm") or "relative_position_index" in k
                                  for k in missing), (missing, unexpected)
    return tv.features, ours


def check_same_features(tv: torch.nn.Module, ours: SwinTransformer, size: int) -> float:
    """Max |difference| of the (normalised) stage-3 maps on one random image."""
    x = torch.randn(1, 3, size, size)
    tv.eval()
    with torch.no_grad():
        ref = tv[:6](x)  # [1, H, W, C] after stage 3
        ref = F.layer_norm(ref, ref.shape[-1:]).permute(0, 3, 1, 2)
        mine = ours.eval()(x)[2]
    return float((ref - mine).abs().max())


def median_times(fn_a, fn_b, runs: int) -> tuple[float, float]:
    """Median seconds of ``fn_a`` and ``fn_b``, run alternately so that load drift hits both."""
    fn_a()
    fn_b()
    times_a, times_b = [], []
    for _ in range(runs):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tv, ours = build_pair()
    print(f"stage-3 features, max |torchvision - detbox|: "
          f"{check_same_features(tv, ours, args.size):.2e}")
    x = torch.randn(args.batch, 3, args.size, args.size)

    def infer(net):
        def run():
            with torch.no_grad():
                net(x)
        return run

    def train(net, outputs):
        def run():
            net.zero_grad(set_to_none=True)
            sum(o.float().sum() for o in outputs(net(x))).backward()
        return run

    tv_stages = tv  # the trunk's final map; its intermediate stages are inside

    tv.eval()
    ours.eval()
    t_tv, t_ours = median_times(infer(tv_stages), infer(ours), args.runs)
    print(f"inference {args.batch}x{args.size}x{args.size}: torchvision {t_tv * 1e3:.0f} ms, "
          f"detbox {t_ours * 1e3:.0f} ms, ratio {t_tv / t_ours:.2f}")
    tv.train()
    ours.train()
    t_tv, t_ours = median_times(train(tv_stages, lambda out: [out]),
                                train(ours, lambda out: out), args.runs)
    print(f"training (forward + backward): torchvision {t_tv * 1e3:.0f} ms, "
          f"detbox {t_ours * 1e3:.0f} ms, ratio {t_tv / t_ours:.2f}")


if __name__ == "__main__":
    main()
