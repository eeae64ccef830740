"""moto's S3 server."""

from __future__ import annotations

import os
import sys

from ._base import LocalServer, ServerUnavailable, _http_status, _unique_name


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

    @property
    def creds(self) -> dict[str, str]:
        """Credentials for this server as lakelet's ``creds=`` takes them (datasets, volumes, copies)."""
        return {
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "endpoint_url": self.endpoint_url,
        }

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
