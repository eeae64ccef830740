"""OpenSSH sshd in SFTP-only mode, with generated host and client keys."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

from ._base import _INSTALL_HINT, LocalServer, _require_binary


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
