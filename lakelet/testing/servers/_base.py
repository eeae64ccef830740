"""What every test server shares: free ports, start/stop/kill by PID, readiness, orphan sweeping."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from lakelet.errors import LakeletError

HOST = "127.0.0.1"
_INSTALL_HINT = "run `bash scripts/install.sh` from the lakelet checkout"
_PORT_IN_USE_MARKERS = ("address already in use", "eaddrinuse", "port is already in use")
_START_ATTEMPTS = 4
_WORKDIR_PREFIX = "lakelet-test-server-"
_OWNER_FILE = ".owner-pid"


class ServerUnavailable(LakeletError, RuntimeError):
    """A test server could not be started (missing binary, crash at start-up, not ready in time)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _require_binary(name: str, *fallbacks: str, hint: str = _INSTALL_HINT) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in fallbacks:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServerUnavailable(f"{name!r} not found on PATH; {hint}")


def _http_status(
    port: int, path: str = "/", method: str = "GET", body: bytes | None = None, timeout: float = 5.0
) -> int | None:
    """Status of one plain-HTTP request to the loopback port, or None when nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _descendants(pid: int) -> list[int]:
    """PIDs of the live descendants of ``pid`` (read from /proc; empty where /proc is absent)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
        except OSError:
            continue  # the process exited while we were looking
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _sweep_orphaned_workdirs() -> None:
    """Remove temp dirs left by test runs that died before their cleanup (their owner PID is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_WORKDIR_PREFIX}*"):
        try:
            owner = int((folder / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being set up
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            continue  # alive, another user's


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


class LocalServer:
    """Base class: one server process on a free loopback port, state in a temp dir.

    Subclasses set :attr:`name` and implement :meth:`_command` (argv) and
    :meth:`_is_ready`; :meth:`_prepare` writes config files before each start.

    Args:
        port: a fixed port; by default a free one is picked (and re-picked on a collision).
        workdir: where state lives; by default a fresh temp dir, removed by :meth:`close`.
        ready_timeout: seconds to wait for the server to answer after launch.
    """

    name: ClassVar[str] = "server"

    def __init__(
        self, *, port: int | None = None, workdir: str | os.PathLike[str] | None = None, ready_timeout: float = 30.0
    ) -> None:
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port must be in 1..65535, got {port}")
        if ready_timeout <= 0:
            raise ValueError(f"ready_timeout must be positive, got {ready_timeout}")
        self.host = HOST
        self.port: int = port or 0
        self._port_fixed = port is not None
        self.ready_timeout = ready_timeout
        self._own_workdir = workdir is None
        self._workdir = Path(workdir).resolve() if workdir is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        """Seconds from launch to ready, for the last successful start."""

    # -------------------------------------------------------------- public API
    @property
    def workdir(self) -> Path:
        """The directory that holds this server's configs, data and log."""
        if self._workdir is None:
            _sweep_orphaned_workdirs()
            self._workdir = Path(tempfile.mkdtemp(prefix=f"{_WORKDIR_PREFIX}{self.name}-"))
            (self._workdir / _OWNER_FILE).write_text(str(os.getpid()))
        return self._workdir

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        """PID of the running server process, or None."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the server process is alive (it may not answer yet)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Start the server and wait until it answers; a no-op when it is already running."""
        if self.running:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self._port_fixed else _START_ATTEMPTS
        for _ in range(attempts):
            if not self._port_fixed:
                self.port = free_port()
            if self._launch():
                self._port_fixed = True  # restarts come back on the same port
                return self
        if attempts == 1:
            raise ServerUnavailable(f"{self.name}: port {self.port} is already in use")
        raise ServerUnavailable(f"{self.name}: no free port after {attempts} attempts; see {self.log_path}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully: SIGTERM to the server and the processes it forked, SIGKILL after ``timeout`` s."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            children = _descendants(proc.pid)  # e.g. sshd's per-connection processes
            proc.terminate()
            _signal_all(children, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._proc = None

    def kill(self) -> None:
        """Crash the server: SIGKILL it and every process it forked, with no chance to clean up."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            children = _descendants(proc.pid)
            proc.kill()
            _signal_all(children, signal.SIGKILL)
        proc.wait()
        self._proc = None

    def restart(self) -> Self:
        """Stop (if running) and start again on the same port with the same state dir."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server and remove its temp dir (when this object created it)."""
        self.stop()
        if self._own_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def is_ready(self) -> bool:
        """True when the server process runs and answers on its port."""
        return self.running and self._is_ready()

    def log_tail(self, max_bytes: int = 2000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"

    # ------------------------------------------------------- subclass hooks
    def _prepare(self) -> None:
        """Write config files for :attr:`port` (called before every launch)."""

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    # -------------------------------------------------------------- launch
    def _launch(self) -> bool:
        """Launch once; True when ready, False on a port collision; raise on other failures."""
        self._prepare()
        argv = self._command()
        setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
        if setpriv:
            argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            try:
                self._proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    env=self._env(),
                    start_new_session=True,
                )
            except OSError as e:
                raise ServerUnavailable(f"{self.name}: cannot run {argv[0]!r}: {e}; {_INSTALL_HINT}") from e
        deadline = started + self.ready_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                output = self._log_since(log_offset)
                if any(marker in output.lower() for marker in _PORT_IN_USE_MARKERS):
                    return False
                raise ServerUnavailable(
                    f"{self.name} exited with code {code} during start-up on port {self.port}:\n{output[-2000:]}"
                )
            if self._is_ready() and self._proc.poll() is None:  # answered, and it was us
                self.startup_seconds = time.monotonic() - started
                return True
            if time.monotonic() > deadline:
                self.kill()
                raise ServerUnavailable(
                    f"{self.name} not ready after {self.ready_timeout:g} s on port {self.port}:\n"
                    f"{self._log_since(log_offset)[-2000:]}"
                )
            time.sleep(0.02)

    def _log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

def _unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
