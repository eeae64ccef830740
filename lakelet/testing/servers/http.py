"""nginx with autoindex, serving a local folder."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

from ._base import _INSTALL_HINT, LocalServer, _http_status, _require_binary


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
