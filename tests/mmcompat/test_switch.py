"""The mmdet/mmcv compatibility switch: what resolves, what refuses, what it leaves behind.

Each case runs in a fresh interpreter, since the switch changes the import system."""

import subprocess
import sys
import textwrap

from tests.conftest import REPO


def run_py(code: str, cwd=None, extra_path: str | None = None) -> subprocess.CompletedProcess:
    env_path = str(REPO) + (f":{extra_path}" if extra_path else "")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin",
                               "OMP_NUM_THREADS": "1"})


def test_mmdet_and_mmcv_names_resolve_to_detbox():
    result = run_py("""
        import detbox.compat
        import mmcv, mmdet
        from mmcv import Config, ConfigDict, DictAction, imread, imwrite, imresize, imflip
        from mmcv.cnn import (ConvModule, build_conv_layer, build_norm_layer, xavier_init,
            build_activation_layer, build_upsample_layer, normal_init, constant_init,
            kaiming_init, bias_init_with_prob, fuse_conv_bn, Scale, CONV_LAYERS, NORM_LAYERS)
        from mmcv.runner import (BaseModule, ModuleList, Sequential, auto_fp16, force_fp32,
            load_checkpoint, save_checkpoint, get_dist_info, init_dist, HOOKS, Hook,
            build_optimizer, build_runner, OptimizerHook)
        from mmcv.parallel import MMDataParallel, MMDistributedDataParallel
        from mmcv.utils import Registry, build_from_cfg, import_modules_from_strings, get_logger
        from mmcv.ops import nms, batched_nms, soft_nms, RoIAlign, ModulatedDeformConv2d
        from mmcv.ops import (DeformConv2dPack, MaskedConv2d, CornerPool, DeformRoIPoolPack,
            MultiScaleDeformableAttention)
        from mmdet.models import build_detector
        from mmdet.models.builder import NECKS
        from mmdet.datasets import build_dataset, build_dataloader, replace_ImageToTensor
        from mmdet.datasets.builder import PIPELINES
        from mmdet.apis import single_gpu_test, init_detector
        import detbox.models.layers, detbox.registry, detbox.datasets.builder
        assert ConvModule is detbox.models.layers.ConvModule
        assert MaskedConv2d is detbox.models.layers.MaskedConv2d
        assert NECKS is detbox.registry.MODELS
        assert PIPELINES is detbox.registry.PIPELINES
        assert build_dataset is detbox.datasets.builder.build_dataset
        print("ok", mmcv.__version__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "1.7.2"]


def test_missing_names_say_so_and_name_the_closest():
    result = run_py("""
        import detbox.compat
        for stmt in ("from mmdet.models.necks import NASFPNN",
                     "import mmcv.fileio",
                     "from mmcv.ops import CARAFE"):
            try:
                exec(stmt)
            except ImportError as err:
                print(type(err).__name__, "|", err)
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("CompatImportError | ") for line in lines)
    assert "mmdet.models.necks.NASFPNN is not provided by detbox" in lines[0]
    assert "FPN" in lines[0]  # closest names
    assert "detbox.datasets.file_io" in lines[1]
    assert "mmcv.ops.CARAFE is not provided by detbox" in lines[2]
    assert "DeformConv2d" not in lines[0]


def test_never_shadows_a_real_installation(tmp_path):
    fake = tmp_path / "site" / "mmcv"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("REAL = True\n")
    result = run_py("""
        try:
            import detbox.compat
        except ImportError as err:
            print("refused:", err)
        import mmcv
        print("real" if getattr(mmcv, "REAL", False) else "facade")
    """, extra_path=str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert "refused: a real 'mmcv' is installed" in result.stdout
    assert "shadows" in result.stdout
    assert result.stdout.strip().endswith("real")


def test_detbox_alone_leaves_mmcv_unimportable():
    result = run_py("""
        import detbox.models, detbox.apis
        try:
            import mmcv
        except ImportError:
            print("absent")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "absent"


def test_mmdataparallel_runs_on_cpu_and_unwraps():
    result = run_py("""
        import detbox.compat, torch
        from mmcv.parallel import MMDataParallel
        from detbox.engine.parallel import unwrap_model
        inner = torch.nn.Linear(2, 1)
        model = MMDataParallel(inner, device_ids=[0])
        out = model(torch.ones(1, 2))
        assert unwrap_model(model) is inner and model.module is inner
        print(tuple(out.shape))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 1)"
