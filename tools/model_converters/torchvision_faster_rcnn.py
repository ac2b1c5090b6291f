"""Convert a torchvision Faster R-CNN (ResNet-50 FPN) checkpoint to a detbox checkpoint.

    python tools/model_converters/torchvision_faster_rcnn.py IN.pth OUT.pth

IN may also be a checkpoint name (``https://download.pytorch.org/models/...``), downloaded into
the torch hub cache when needed. It is read without running code from it
(``--trust-checkpoint`` loads other objects too).
"""

import argparse
import sys

import torch

from detbox.apis.runtime import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="torchvision state_dict file (or URL)")
    parser.add_argument("dst", help="output checkpoint ({meta, state_dict})")
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="load SRC even if it holds objects beyond plain weights (runs "
                        "code from the file)")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of errors")
    args = parser.parse_args()
    from detbox.engine.checkpoint import atomic_write
    from detbox.models.weight_converters import convert_torchvision_faster_rcnn
    from detbox.utils.checkpoint import load_checkpoint_file

    state_dict = load_checkpoint_file(args.src, trust=args.trust_checkpoint or None)
    state_dict = state_dict.get("model", state_dict)
    checkpoint = dict(meta=dict(converted_from=args.src),
                      state_dict=convert_torchvision_faster_rcnn(state_dict))
    atomic_write(args.dst, lambda f: torch.save(checkpoint, f))


if __name__ == "__main__":
    sys.exit(run_tool(main))
