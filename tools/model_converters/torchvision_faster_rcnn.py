"""Convert a torchvision Faster R-CNN (ResNet-50 FPN) checkpoint to a detbox checkpoint.

    python tools/model_converters/torchvision_faster_rcnn.py IN.pth OUT.pth
"""

import argparse

import torch

from detbox.models.weight_converters import convert_torchvision_faster_rcnn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="torchvision state_dict file")
    parser.add_argument("dst", help="output checkpoint ({meta, state_dict})")
    args = parser.parse_args()
    state_dict = torch.load(args.src, map_location="cpu", weights_only=True)
    state_dict = state_dict.get("model", state_dict)
    torch.save(dict(meta=dict(converted_from=args.src),
                    state_dict=convert_torchvision_faster_rcnn(state_dict)), args.dst)


if __name__ == "__main__":
    main()
