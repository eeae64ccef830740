"""Writing cache entries in the background, after the cached code returned.

What reaches the writer is already a snapshot: the values were serialized in
the caller's thread (:func:`lakelet.cache.codecs.prepare`), so a later mutation
of a variable cannot change what is stored, and a job only does I/O (hashing,
writing blobs, then publishing the entry last, create-only). A crash mid-write
therefore leaves no entry, only unreferenced content-addressed blobs: the next
run is a miss.

Guarantees:

- one worker thread per process, jobs run in submission order;
- the queue is bounded (jobs and snapshot bytes): a submit blocks while full;
- :func:`flush` (or :meth:`BackgroundWriter.wait`) blocks until the writes are
  done; lookups of a key wait for its pending write first; the interpreter
  flushes at exit;
- a failed write is never dropped: it becomes a :class:`CacheWarning` raised in
  the thread that next waits on, submits to or reports the writer.

The writer is process-wide on purpose (like zarr's I/O loop): one queue bounds
the memory of all pending snapshots, and ``atexit`` has one thing to drain. A
forked child gets a fresh, empty writer.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import InvalidArgument, LakeletTimeout
from .errors import CacheWarning

MAX_JOBS = 8  # queued writes, besides the one in progress
MAX_BYTES = 2 * 2**30  # snapshot bytes held by queued writes
_MAX_FAILURES = 100  # unreported failures kept (older ones are summarized by count)


@dataclass(frozen=True)
class PendingWrite:
    """A cache entry waiting to be (or being) written."""

    kind: str  # "cell" or "function"
    name: str
    address: str
    nbytes: int
    queued: float  # time.time() of the submit


@dataclass
class WriteJob:
    """What the writer runs: ``run`` does the I/O; ``finish`` always runs afterwards (releases locks)."""

    pending: PendingWrite
    run: Callable[[], None]
    finish: Callable[[], None] = lambda: None
    on_error: Callable[[str], None] = lambda message: None  # also told about a failure (a counter)
    abandon: Callable[[], None] = lambda: None  # in a forked child: drop inherited resources, do not write


@dataclass
class _State:
    queue: deque[WriteJob] = field(default_factory=deque)
    active: WriteJob | None = None
    queued_bytes: int = 0
    failures: list[str] = field(default_factory=list)
    dropped_failures: int = 0
    written: int = 0
    failed: int = 0


class BackgroundWriter:
    """A bounded queue of cache writes served by one daemon thread."""

    def __init__(self, *, max_jobs: int = MAX_JOBS, max_bytes: int = MAX_BYTES) -> None:
        if max_jobs < 1 or max_bytes < 0:
            raise InvalidArgument(f"max_jobs must be >= 1 and max_bytes >= 0, got {max_jobs}, {max_bytes}")
        self.max_jobs = max_jobs
        self.max_bytes = max_bytes
        self._cond = threading.Condition()
        self._state = _State()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ submitting
    def submit(self, job: WriteJob, *, timeout: float | None = None) -> None:
        """Queue ``job``; blocks while the queue is full (a job bigger than the bound waits for an empty queue)."""
        self.report()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._has_room(job.pending.nbytes):
                if not self._cond.wait(_remaining(deadline)):
                    raise LakeletTimeout(f"the cache writer stayed busy for {timeout} s; {job.pending.name} not queued")
            self._state.queue.append(job)
            self._state.queued_bytes += job.pending.nbytes
            self._start()
            self._cond.notify_all()

    def _has_room(self, nbytes: int) -> bool:
        state = self._state
        if not state.queue:
            return True
        return len(state.queue) < self.max_jobs and state.queued_bytes + nbytes <= self.max_bytes

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._work, name="lakelet-cache-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._state.queue:
                    self._cond.wait()
                job = self._state.queue.popleft()
                self._state.queued_bytes -= job.pending.nbytes
                self._state.active = job
                self._cond.notify_all()  # room in the queue
            failure: str | None = None
            try:
                failure = _run(job)
            finally:  # even if the thread dies (a BaseException), nobody waits on this job forever
                with self._cond:
                    self._state.active = None
                    if failure is None:
                        self._state.written += 1
                    else:
                        self._record_failure(failure)
                    self._cond.notify_all()

    def _record_failure(self, message: str) -> None:
        state = self._state
        state.failed += 1
        if len(state.failures) >= _MAX_FAILURES:
            state.dropped_failures += 1
        else:
            state.failures.append(message)

    # ------------------------------------------------------------------ waiting
    def pending(self) -> list[PendingWrite]:
        """The writes not finished yet, the one in progress first."""
        with self._cond:
            active = [self._state.active.pending] if self._state.active is not None else []
            return active + [job.pending for job in self._state.queue]

    def wait(self, address: str | None = None, *, timeout: float | None = None) -> None:
        """Block until the write of ``address`` (or every write) is done, then report failures.

        Raises :class:`~lakelet.errors.LakeletTimeout` after ``timeout`` seconds.
        """
        if threading.current_thread() is self._thread:
            return  # a job waiting on the writer would wait on itself
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._busy_with(address):
                if self._state.queue:
                    self._start()  # (a worker killed by a BaseException is replaced)
                if not self._cond.wait(_remaining(deadline)):
                    what = f"the write of entry {address[:12]}" if address else "pending cache writes"
                    raise LakeletTimeout(f"{what} did not finish within {timeout} s")
        self.report()

    def _busy_with(self, address: str | None) -> bool:
        state = self._state
        if address is None:
            return bool(state.queue) or state.active is not None
        if state.active is not None and state.active.pending.address == address:
            return True
        return any(job.pending.address == address for job in state.queue)

    def report(self) -> int:
        """Raise a :class:`CacheWarning` for each failed write not reported yet; returns how many."""
        with self._cond:
            failures, self._state.failures = self._state.failures, []
            dropped, self._state.dropped_failures = self._state.dropped_failures, 0
        for message in failures:
            warnings.warn(message, CacheWarning, stacklevel=3)
        if dropped:
            warnings.warn(f"{dropped} more background cache writes failed", CacheWarning, stacklevel=3)
        return len(failures) + dropped

    def stats(self) -> dict[str, int]:
        """Counters of this writer: written, failed, queued, queued_bytes."""
        with self._cond:
            state = self._state
            return {
                "written": state.written,
                "failed": state.failed,
                "queued": len(state.queue) + (state.active is not None),
                "queued_bytes": state.queued_bytes,
            }


def _run(job: WriteJob) -> str | None:
    """Run one job and its ``finish``; returns the failure message, or None."""
    # The thread boundary: nothing may escape the worker (it would die and later writes would
    # wait for nobody), and nothing may vanish: every error becomes a reported CacheWarning.
    failure: str | None = None
    try:
        job.run()
    except Exception as e:  # noqa: BLE001
        failure = f"the cache entry of {job.pending.name} was not stored: {type(e).__name__}: {e}"
    try:
        job.finish()
    except Exception as e:  # noqa: BLE001
        failure = failure or f"after writing the cache entry of {job.pending.name}: {type(e).__name__}: {e}"
    if failure is not None:
        job.on_error(failure)
    return failure


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


# ------------------------------------------------------------------------------ the process's writer
class _Holder:
    """The process's writer, created on first use; replaced in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writer: BackgroundWriter | None = None
        self.exit_hook = False


_holder = _Holder()


def writer() -> BackgroundWriter:
    """The process-wide background writer of cache entries."""
    with _holder.lock:
        if _holder.writer is None:
            _holder.writer = BackgroundWriter()
            if not _holder.exit_hook:
                atexit.register(_flush_at_exit)
                _holder.exit_hook = True
        return _holder.writer


def current_writer() -> BackgroundWriter | None:
    """The writer if one was created (looking does not start one)."""
    return _holder.writer


def flush(timeout: float | None = None) -> None:
    """Wait until every cache entry queued for writing is stored.

    Failed writes are reported as :class:`~lakelet.cache.CacheWarning`;
    :class:`~lakelet.errors.LakeletTimeout` after ``timeout`` seconds.

    >>> from lakelet.cache import flush
    >>> flush()
    """
    found = current_writer()
    if found is not None:
        found.wait(timeout=timeout)


def _flush_at_exit() -> None:
    found = current_writer()
    if found is not None:
        found.wait()


def _forget_in_child() -> None:
    # The parent's thread does not exist in a forked child and its pending jobs are the parent's
    # to write; the child only closes its copies of their lock files (else the locks would stay
    # held as long as the child lives).
    inherited = _holder.writer
    _holder.lock = threading.Lock()
    _holder.writer = None
    if inherited is not None:
        inherited._cond = threading.Condition()  # its lock may have been held by another thread at fork
        state = inherited._state
        for job in ([state.active] if state.active is not None else []) + list(state.queue):
            job.abandon()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


__all__ = ["BackgroundWriter", "PendingWrite", "WriteJob", "current_writer", "flush", "writer"]
