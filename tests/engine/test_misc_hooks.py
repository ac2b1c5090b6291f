import pytest
from torch import nn

from detbox.engine.hooks import (
    EmptyCacheHook,
    NumClassCheckHook,
    SetEpochInfoHook,
    SyncBuffersHook,
    SyncNormHook,
    YOLOXModeSwitchHook,
)
from tests.engine.engine_toys import ToyModel, make_runner, toy_batches


class Loader(list):
    def __init__(self, items, classes):
        super().__init__(items)
        self.dataset = type("ToyDataset", (), {"CLASSES": classes})()


class RPNHead(nn.Module):
    num_classes = 1


class Detector(ToyModel):
    def __init__(self, num_classes):
        super().__init__()
        self.head = nn.Module()
        self.head.num_classes = num_classes
        self.rpn = RPNHead()


def check(num_classes, classes):
    runner = make_runner(model=Detector(num_classes), max_epochs=1)
    runner.register_hook(NumClassCheckHook())
    runner.run([Loader(toy_batches(1), classes)], [("train", 1)])


def test_num_class_check():
    check(3, ("a", "b", "c"))  # the RPN head's 1 class is exempt
    with pytest.raises(ValueError, match=r"`num_classes` \(2\) in Module \(head\) of Detector "
                                         r"does not match the length of `CLASSES` \(3\)"):
        check(2, ("a", "b", "c"))
    with pytest.raises(TypeError, match="add a comma"):
        check(1, "person")


def test_sync_buffers_and_empty_cache_are_noops_on_one_cpu_process():
    runner = make_runner(max_epochs=1)
    runner.register_hook(SyncBuffersHook())
    runner.register_hook(EmptyCacheHook(before_epoch=True, after_iter=True))
    before = runner.model.bn.running_mean.clone()
    runner.run([toy_batches(1)], [("train", 1)])
    assert not runner.model.bn.running_mean.equal(before)  # BN statistics still update


def test_set_epoch_info_and_yolox_mode_switch():
    class Yolox(ToyModel):
        def __init__(self):
            super().__init__()
            self.epochs = []
            self.bbox_head = nn.Module()
            self.bbox_head.use_l1 = False

        def set_epoch(self, epoch):
            self.epochs.append((epoch, self.bbox_head.use_l1))

    class MixLoader(list):
        def __init__(self, items):
            super().__init__(items)
            self.dataset = type("Mix", (), {"skip": None})()
            self.dataset.update_skip_type_keys = lambda keys: setattr(self.dataset, "skip", keys)

    model = Yolox()
    loader = MixLoader(toy_batches(1))
    runner = make_runner(model=model, max_epochs=4)
    runner.register_hook(YOLOXModeSwitchHook(num_last_epochs=2, skip_type_keys=("Mosaic",)), 48)
    runner.register_hook(SetEpochInfoHook())
    runner.register_hook(SyncNormHook(num_last_epochs=2, interval=5))
    runner.run([loader], [("train", 1)])
    # the switch happens before the 2nd epoch (1-based epoch 2 == 4 - 2)
    assert model.epochs == [(0, False), (1, True), (2, True), (3, True)]
    assert loader.dataset.skip == ("Mosaic",)
    assert runner.hooks[-1].interval == 1
