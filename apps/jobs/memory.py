"""Transparent huge pages off in the processes that run jobs.

A job touches hundreds of megabytes of fresh memory once (a parse, a harmonisation) and lets it go. numpy and
Arrow ask Linux for transparent huge pages for large buffers, so each first touch faults in and zeroes 2 MB; on
a virtual machine that hands free memory back to its host, the host must back each such page again. On the
development machine, first touching 1.2 GB (numpy and Arrow) took 3.5 s with huge pages and 0.5 s without, and
the parse and harmonisation of a 1,000,000-row file took about half their time. Jobs read their buffers in long
sequential passes, where huge pages save little.
"""

import contextlib
import ctypes

# linux/prctl.h: the flag is kept by the processes this one forks or executes (the parse's forkserver).
PR_SET_THP_DISABLE = 41
PR_GET_THP_DISABLE = 42


def _prctl(option: int, value: int = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0)


def huge_pages_off() -> bool:
    """Turn transparent huge pages off for this process and those it starts; False where Linux cannot."""
    with contextlib.suppress(OSError, AttributeError):
        return _prctl(PR_SET_THP_DISABLE, 1) == 0
    return False


def huge_pages_are_off() -> bool:
    with contextlib.suppress(OSError, AttributeError):
        return _prctl(PR_GET_THP_DISABLE) == 1
    return False
