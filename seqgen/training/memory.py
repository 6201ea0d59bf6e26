"""Keep the memory a training step frees for the next step, instead of handing it back to the OS.

A step allocates and frees the same activation buffers every time. glibc's malloc serves the largest of
them with fresh mmap()s and gives the top of its heap back once enough of it is free, so depending on how
the heap happens to be laid out a process can take every page of those buffers afresh from the kernel at
every step: thousands of page faults a step, each page zeroed again. Which processes fall into that is
luck, so the same training step takes very different times from one run to the next (benchmarks/README.md,
"Training on every core"). Two mallopt() settings end it: buffers up to the largest mmap threshold glibc
allows come from the heap, and the heap is never trimmed, so a process keeps its peak step's memory.

That trade (memory held at its peak, for steady steps) suits a process that trains and little else, so the
`train` command makes it; the app, whose memory should shrink back between requests, does not.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
LARGEST_MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc refuses more on 64-bit machines
NEVER_TRIM = 2**31 - 1                       # mallopt takes an int


def keep_freed_memory() -> bool:
    """Set the two mallopt() settings in this process; False where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGEST_MMAP_THRESHOLD)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
