"""Python's cyclic garbage collector kept off the objects that existed before a bulk operation.

A Nautobot process holds about half a million long-lived objects (modules, models, URL patterns, caches). A Job
that raises thousands of alerts or imports thousands of rows allocates enough short-lived objects to trigger a
few full collections, and each one walks that whole heap: 0.3-0.5 s apiece, measured on the renewals Job at 20k
contracts (docs/dev/benchmark.md). Inside `frozen_heap()` the objects that existed on entry sit in the collector's
permanent generation (`gc.freeze()`), so a collection walks only what the operation itself allocated; on the last
exit they are handed back (`gc.unfreeze()`). Nothing is leaked: objects made inside the block are collected as
usual, and a cycle among the frozen objects is collected after the block, as it would have been later anyway.
"""

import contextlib
import gc
import threading

_lock = threading.Lock()
_depth = 0  # blocks currently open in this process (threads share the collector, so they share the count)


@contextlib.contextmanager
def frozen_heap():
    """Within the block, full collections skip the objects that existed when the outermost block was entered."""
    global _depth  # pylint: disable=global-statement
    with _lock:
        if _depth == 0:
            gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
