"""Giving freed heap back to the system after a segment is built.

Building a segment (an optimization) allocates hundreds of megabytes in the engine and
frees them; glibc keeps freed pages in its arenas for reuse, so without a trim the
process's anonymous memory ratchets up with every build (measured: 50-150 MB released
by a trim after each 100,000-point segment; docs/BENCHMARKS.md, issue 16).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache
from typing import Any

log = logging.getLogger(__name__)


@cache
def _libc() -> Any | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") else None  # glibc only
    except OSError:
        return None


def release_free_heap() -> bool:
    """Return the heap's free pages to the system (glibc's `malloc_trim`); True when
    something was released. A no-op where the C library has no such call."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
