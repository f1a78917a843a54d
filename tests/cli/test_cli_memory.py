"""The CLI process keeps freed memory in its heap (glibc): the allocator accepts each setting."""

import platform

import pytest

from northstar_lab.cli import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_glibc_accepts_the_settings():
    # mallopt returns 0 for a value out of range, and the settings would silently not hold
    assert memory.reuse_freed_memory() is True


def test_without_glibc_it_is_a_no_op(monkeypatch):
    def no_libc(*_a, **_k):
        raise OSError("no libc here")

    monkeypatch.setattr(memory.ctypes, "CDLL", no_libc)
    assert memory.reuse_freed_memory() is False
