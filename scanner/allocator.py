"""Keep glibc from holding on to freed megabytes while bodies are fetched.

glibc serves a large block from the heap once a block that size has been freed
(its mmap threshold rises up to 32 MB), and gives each thread an arena of its
own; freed pages then stay with the process. With eight fetch threads passing
page bodies of up to 40 MB, a cold scan of 1,000 packages peaked at 354 MB;
with the threshold pinned at 256 KiB, large blocks are mapped and unmapped and
the peak was 240 MB (measured in `make bench`). Elsewhere (macOS, musl) this
does nothing.
"""

from __future__ import annotations

import functools
import sys

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD = 256 * 1024


@functools.cache
def return_large_blocks() -> bool:
    """Pin glibc's mmap threshold; True when it was set."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    except (OSError, AttributeError):  # not glibc
        return False
