"""Class names of the common data sets by name (v2's ``get_classes``), for labelling tables and
for models whose checkpoint has no ``CLASSES``.

>>> get_classes('voc07')[:3]
['aeroplane', 'bicycle', 'bird']
>>> len(get_classes('coco'))
80
"""

from __future__ import annotations

__all__ = ["voc_classes", "coco_classes", "cityscapes_classes", "wider_face_classes",
           "get_classes", "DATASET_ALIASES"]


def voc_classes() -> list[str]:
    """The 20 PASCAL VOC classes."""
    return ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
            "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep",
            "sofa", "train", "tvmonitor"]


def coco_classes() -> list[str]:
    """The 80 COCO detection classes, in category-id order."""
    return [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
        "traffic_light", "fire_hydrant", "stop_sign", "parking_meter", "bench", "bird", "cat",
        "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
        "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports_ball",
        "kite", "baseball_bat", "baseball_glove", "skateboard", "surfboard", "tennis_racket",
        "bottle", "wine_glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot_dog", "pizza", "donut", "cake", "chair",
        "couch", "potted_plant", "bed", "dining_table", "toilet", "tv", "laptop", "mouse",
        "remote", "keyboard", "cell_phone", "microwave", "oven", "toaster", "sink",
        "refrigerator", "book", "clock", "vase", "scissors", "teddy_bear", "hair_drier",
        "toothbrush"]


def cityscapes_classes() -> list[str]:
    """The 8 Cityscapes instance classes."""
    return ["person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"]


def wider_face_classes() -> list[str]:
    """WIDER FACE's single class."""
    return ["face"]


_NAMES = {"voc": voc_classes, "coco": coco_classes, "cityscapes": cityscapes_classes,
          "wider_face": wider_face_classes}

DATASET_ALIASES = {
    "voc": ["voc", "pascal_voc", "voc07", "voc12"],
    "coco": ["coco", "mscoco", "ms_coco"],
    "cityscapes": ["cityscapes"],
    "wider_face": ["WIDERFaceDataset", "wider_face", "WIDERFace"],
}


def get_classes(dataset: str) -> list[str]:
    """Class names of a data set given by name or alias (``'voc07'``, ``'coco'``...).

    Raises:
        ValueError: for a name detbox does not know (the ImageNet, Open Images and
            Objects365 lists of v2 are not included).
    """
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be a str, got {type(dataset).__name__}")
    for name, aliases in DATASET_ALIASES.items():
        if dataset in aliases:
            return _NAMES[name]()
    known = sorted(a for aliases in DATASET_ALIASES.values() for a in aliases)
    raise ValueError(f"unrecognized dataset {dataset!r}; known names: {', '.join(known)}")
