"""Keep freed memory in the process for the CLI's short life (glibc's allocator only).

glibc hands every freed block above its mmap threshold (128 KB at first) back to the kernel, so
each of the ranking's large NumPy temporaries — per-user columns, grids, sorted keys — faults
its pages in again: 0.5–0.7 s of system time in a 100k-user × 50-column ranking. Serving them
from the heap instead, and not trimming it, halves that and saves ~5% of the wall time
(bench/README.md). The app, a long-lived server, keeps the allocator's defaults.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD = 32 << 20  # the most every 64-bit glibc accepts (half its largest heap)
TRIM_THRESHOLD = 1 << 30
TOP_PAD = 64 << 20


def reuse_freed_memory() -> bool:
    """Ask glibc to keep blocks up to 32 MB in the heap; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # macOS, musl or Windows: their allocators behave otherwise; nothing to do
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    ok &= mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    ok &= mallopt(M_TOP_PAD, TOP_PAD)
    return bool(ok)
