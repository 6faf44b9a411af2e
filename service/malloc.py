"""Fewer glibc malloc arenas for the server.

glibc gives threads their own malloc arenas (up to eight per core) and keeps
what a thread frees in its arena for that arena's next allocations.  A server
runs its requests on a pool of worker threads (anyio's, ONNX Runtime's
passes, the query log's writer), so each arena ends up holding freed memory
that the others cannot use.  ``qbank serve`` caps them at two before it
starts any thread: about 10 MiB less per worker after a load, at the same
speed (BENCHMARKS.md).  An operator's ``MALLOC_ARENA_MAX`` wins; other C
libraries (musl, macOS) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

ARENAS = 2
ENV = "MALLOC_ARENA_MAX"
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas(default: int = ARENAS) -> int | None:
    """Cap this process's malloc arenas at ``MALLOC_ARENA_MAX`` (else ``default``),
    and put the cap in the environment, where uvicorn's worker processes read it
    when they start.  The cap set, or None where the C library is not glibc."""
    value = os.environ.get(ENV, "").strip()
    arenas = default
    if value:
        try:
            arenas = int(value)
        except ValueError:
            log.warning("%s=%r is not a whole number: using %d", ENV, value, default)
        else:
            if arenas < 1:
                log.warning("%s=%r must be at least 1: using %d", ENV, value, default)
                arenas = default
    os.environ[ENV] = str(arenas)
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # no C library by that name, or one without mallopt
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return arenas if mallopt(_M_ARENA_MAX, arenas) == 1 else None
