"""tune_malloc: applied on glibc, and left alone when the user chose their own settings."""

import platform

import pytest

from detbox.utils.malloc import tune_malloc


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_applied_on_glibc(monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("MALLOC_")]:
        monkeypatch.delenv(key)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.delenv("DETBOX_MALLOC_TUNING", raising=False)
    assert tune_malloc() is True


@pytest.mark.parametrize("env", [{"MALLOC_ARENA_MAX": "2"}, {"LD_PRELOAD": "libjemalloc.so"},
                                 {"DETBOX_MALLOC_TUNING": "0"}])
def test_user_settings_win(monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert tune_malloc() is False
