"""Run the parse in a forked child process with its own memory cap and a deadline.

Readers are C and C++ libraries: past an address-space cap they may abort the whole process instead of raising
MemoryError, and a time limit cannot interrupt them. In a child, either ends only the child; the worker (and
its heartbeat) carries on and fails the job with a message. The child talks to the parent through a pipe of
length-prefixed pickles; both ends are this module, in processes of the same program.
"""

import contextlib
import ctypes
import os
import pickle
import resource
import select
import signal
import struct
import time
from collections.abc import Callable

from apps.jobs.errors import JobInputError

HEADER = struct.Struct("!Q")
PR_SET_PDEATHSIG = 1


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
    """Ask Linux to kill the child if the worker dies first, so no orphan keeps parsing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _send(fd: int, message) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = HEADER.pack(len(payload)) + payload
    while data:
        written = os.write(fd, data)
        data = data[written:]


# Under the address-space cap, memory runs out in many guises: MemoryError, Arrow's "Out of memory", or a
# thread (its stack) that cannot be started.
MEMORY_SIGNS = ("out of memory", "can't start new thread", "failed to launch worker thread", "cannot allocate memory")


def _out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or any(sign in str(error).lower() for sign in MEMORY_SIGNS)


def _child(work: Callable, write_fd: int, memory_mb: int) -> None:
    code = 0
    try:
        _die_with_parent()
        _cap_memory(memory_mb)
        result = work(lambda percent, message: _send(write_fd, ("progress", percent, message)))
        _send(write_fd, ("result", result))
    except JobInputError as error:
        _send(write_fd, ("input", error.message))
    except BaseException as error:  # everything must reach the parent; the child then exits at once
        message = ("memory",) if _out_of_memory(error) else ("error", f"{type(error).__name__}: {error}")
        code = 1
        with contextlib.suppress(BaseException):
            _send(write_fd, message)
    finally:
        os._exit(code)


class _Reader:
    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""
        self.closed = False

    def feed(self) -> None:
        chunk = os.read(self.fd, 1024 * 1024)
        if chunk:
            self.buffer += chunk
        else:
            self.closed = True

    def messages(self):
        while len(self.buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + length:
                return
            payload = self.buffer[HEADER.size : HEADER.size + length]
            self.buffer = self.buffer[HEADER.size + length :]
            yield pickle.loads(payload)


def memory_message(memory_mb: int) -> str:
    return (
        f"Parsing the file needed more than the memory limit ({memory_mb:,} MB). Split the file, or ask the "
        "coordinator to raise DATASET_PARSE_MEMORY_MB."
    )


def run_isolated(
    work: Callable[[Callable[[int, str], None]], object],
    *,
    memory_mb: int,
    time_limit: float,
    on_progress: Callable[[int, str], None],
):
    """Run `work(progress)` in a child; return its result and the child's peak resident memory in MB.

    Input errors, and breaches of the limits, come back as JobInputError.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(work, write_fd, memory_mb)
    os.close(write_fd)
    reader, outcome = _Reader(read_fd), None
    deadline = time.monotonic() + time_limit
    try:
        while not reader.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JobInputError(
                    f"Parsing took longer than the limit of {time_limit:,.0f} seconds and was stopped. Split the "
                    "file, or ask the coordinator to raise DATASET_PARSE_TIME_LIMIT_SECONDS."
                )
            ready, _, _ = select.select([read_fd], [], [], min(remaining, 1.0))
            if ready:
                reader.feed()
            for message in reader.messages():
                if message[0] == "progress":
                    on_progress(*message[1:])
                else:
                    outcome = message
    finally:
        os.close(read_fd)
        if outcome is None or outcome[0] != "result":
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
    result = _result(outcome, status, memory_mb)
    return result, usage.ru_maxrss / 1024


def _result(outcome, status: int, memory_mb: int):
    if outcome is not None:
        kind = outcome[0]
        if kind == "result":
            return outcome[1]
        if kind == "input":
            raise JobInputError(outcome[1])
        if kind == "memory":
            raise JobInputError(memory_message(memory_mb))
        raise ChildFailed(outcome[1])
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGABRT, signal.SIGKILL):
        # A C++ reader aborts (std::bad_alloc) when the address-space cap refuses it memory.
        raise JobInputError(memory_message(memory_mb))
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGSEGV, signal.SIGBUS):
        raise JobInputError("The file made its reader stop abnormally: it is probably damaged. Export it again.")
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0:
        raise JobInputError(
            f"The parsing process stopped without a result (exit status {os.WEXITSTATUS(status)}); it most likely "
            f"ran out of its memory limit ({memory_mb:,} MB). Ask the coordinator to raise DATASET_PARSE_MEMORY_MB."
        )
    raise ChildFailed(f"The parsing process ended unexpectedly (status {status}).")
