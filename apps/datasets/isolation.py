"""Run the parse in a child process with its own memory cap and a deadline.

Readers are C and C++ libraries: past an address-space cap they may abort the whole process instead of raising
MemoryError, and a time limit cannot interrupt them. In a child, either ends only the child; the worker (and
its heartbeat) carries on and fails the job with a message.

Children come from a forkserver, a fresh interpreter, rather than from a fork of the worker: a fork would copy
locks held by the worker's other threads (the heartbeat's database connection, logging) and could hang on
them. The forkserver imports PRELOAD once, so each child starts with Django and the readers loaded.

The child reads untrusted files, so what it sends back is data only: JSON messages on a pipe (never pickles,
which could run code in the worker), the table itself going through a file.
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import time
from collections.abc import Callable

import billiard

from apps.jobs.errors import JobInputError

PR_SET_PDEATHSIG = 1
# Imported by the forkserver before it starts any child; it sets Django up.
PRELOAD = ["apps.datasets.child_setup"]


class ChildFailed(Exception):
    """The child ended without a result for a reason that is not the input's fault."""


def _virtual_memory_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def _cap_memory(extra_mb: int) -> None:
    current = _virtual_memory_bytes()
    if current is None or extra_mb <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = current + extra_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _die_with_parent() -> None:
    """Ask Linux to kill the child if its parent (the forkserver, which ends with the worker) dies first."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _send(sender, message: list) -> None:
    sender.send_bytes(json.dumps(message).encode())


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Under the address-space cap, memory runs out in many guises: MemoryError, Arrow's "Out of memory", or a
# thread (its stack) that cannot be started.
MEMORY_SIGNS = ("out of memory", "can't start new thread", "failed to launch worker thread", "cannot allocate memory")


def _out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or any(sign in str(error).lower() for sign in MEMORY_SIGNS)


def _child(function: Callable, argument, sender, memory_mb: int) -> None:
    code = 0
    try:
        _die_with_parent()
        _cap_memory(memory_mb)
        result = function(argument, lambda percent, message: _send(sender, ["progress", percent, message]))
        _send(sender, ["result", result, _peak_memory_mb()])
    except JobInputError as error:
        _send(sender, ["input", error.message])
    except BaseException as error:  # everything must reach the parent; the child then exits at once
        message = ["memory"] if _out_of_memory(error) else ["error", f"{type(error).__name__}: {error}"]
        code = 1
        with contextlib.suppress(BaseException):
            _send(sender, message)
    finally:
        os._exit(code)


def _message(payload: bytes) -> list:
    """A message from the child: a JSON list whose first item says what it is; anything else is refused."""
    message = json.loads(payload)
    if not isinstance(message, list) or not message or not isinstance(message[0], str):
        raise ChildFailed("The parsing process sent a message that is not understood.")
    return message


def memory_message(memory_mb: int) -> str:
    return (
        f"Parsing the file needed more than the memory limit ({memory_mb:,} MB). Split the file, or ask the "
        "coordinator to raise DATASET_PARSE_MEMORY_MB."
    )


def _start_child(function: Callable, argument, memory_mb: int):
    # billiard (Celery's multiprocessing) rather than multiprocessing, which refuses to start children from
    # the daemonic processes of Celery's prefork pool.
    context = billiard.get_context("forkserver")
    # Takes effect when this process starts its forkserver, at its first child; later calls change nothing.
    context.set_forkserver_preload(PRELOAD)
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, argument, sender, memory_mb), name="parse")
    process.start()
    sender.close()
    return process, receiver


def run_isolated(
    function: Callable[[object, Callable[[int, str], None]], object],
    argument,
    *,
    memory_mb: int,
    time_limit: float,
    on_progress: Callable[[int, str], None],
):
    """Run `function(argument, progress)` in a child; return its result and the child's peak memory in MB.

    `function` must be importable by name and `argument` picklable (they go to the child); the result must
    be JSON data (it comes back as JSON). Input errors, and breaches of the limits, come back as JobInputError.
    """
    process, receiver = _start_child(function, argument, memory_mb)
    outcome = None
    deadline = time.monotonic() + time_limit
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JobInputError(
                    f"Parsing took longer than the limit of {time_limit:,.0f} seconds and was stopped. Split the "
                    "file, or ask the coordinator to raise DATASET_PARSE_TIME_LIMIT_SECONDS."
                )
            if not receiver.poll(min(remaining, 1.0)):
                continue
            try:
                message = _message(receiver.recv_bytes())
            except EOFError:
                break
            if message[0] == "progress":
                on_progress(int(message[1]), str(message[2]))
            else:
                outcome = message
    finally:
        receiver.close()
        if outcome is None or outcome[0] != "result":
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        process.join()
    return _result(outcome, process.exitcode, memory_mb)


def _result(outcome: list | None, exitcode: int, memory_mb: int) -> tuple[object, float]:
    """The child's result and peak memory, or the error its outcome or exit code (-N: signal N) stands for."""
    if outcome is not None:
        kind = outcome[0]
        if kind == "result" and len(outcome) == 3:
            return outcome[1], float(outcome[2])
        if kind == "input":
            raise JobInputError(str(outcome[1]))
        if kind == "memory":
            raise JobInputError(memory_message(memory_mb))
        raise ChildFailed(str(outcome[1]) if len(outcome) > 1 else f"The parsing process sent {kind!r}.")
    if exitcode in (-signal.SIGABRT, -signal.SIGKILL):
        # A C++ reader aborts (std::bad_alloc) when the address-space cap refuses it memory.
        raise JobInputError(memory_message(memory_mb))
    if exitcode in (-signal.SIGSEGV, -signal.SIGBUS):
        raise JobInputError("The file made its reader stop abnormally: it is probably damaged. Export it again.")
    if exitcode > 0:
        raise JobInputError(
            f"The parsing process stopped without a result (exit status {exitcode}); it most likely ran out of "
            f"its memory limit ({memory_mb:,} MB). Ask the coordinator to raise DATASET_PARSE_MEMORY_MB."
        )
    raise ChildFailed(f"The parsing process ended unexpectedly (exit code {exitcode}).")
