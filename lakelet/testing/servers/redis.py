"""redis-server."""

from __future__ import annotations

import socket

from ._base import _INSTALL_HINT, LocalServer, ServerUnavailable, _require_binary


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
