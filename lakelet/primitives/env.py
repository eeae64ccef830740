"""Environments: separate namespaces of named objects, each with its own backends.

An environment is chosen with ``environment_name=`` (default ``main``) and is
described in ``$LAKELET_HOME/config.toml``::

    [environments.main]          # optional: embedded is the default
    backend = "embedded"         # a folder + SQLite under $LAKELET_HOME/primitives/main
    # path = "/data/lakelet-main"

    [environments.team]
    backend = "shared"
    redis_url = "redis://redis.internal:6379/0"   # dicts, queues, volume metadata
    volumes_url = "s3://team-bucket/lakelet"        # volume and NFS bytes
    # redis_prefix = "lakelet:team:"                # default: lakelet:<environment name>:
    [environments.team.storage_options]             # passed to s3fs
    endpoint_url = "https://minio.internal:9000"

An environment that is not configured is embedded, under
``$LAKELET_HOME/primitives/<name>``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from ..config import Config, get_config
from ..errors import InvalidArgument
from .names import validate_name

DEFAULT_ENVIRONMENT = "main"
_KEYS = {"backend", "path", "redis_url", "redis_prefix", "volumes_url", "storage_options"}


@dataclasses.dataclass(frozen=True)
class Environment:
    """Where one environment keeps its objects."""

    name: str
    backend: Literal["embedded", "shared"]
    #: embedded: the folder holding SQLite files, blobs and working copies
    root: Path
    #: shared: the Redis server of dicts, queues and volume metadata
    redis_url: str | None = None
    #: shared: the S3-compatible prefix of volume and NFS bytes
    volumes_url: str | None = None
    storage_options: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    #: shared: prefix of every Redis key of this environment (default ``lakelet:<name>:``)
    redis_prefix: str = ""

    def __post_init__(self) -> None:
        if not self.redis_prefix:
            object.__setattr__(self, "redis_prefix", f"lakelet:{self.name}:")

    @property
    def shared(self) -> bool:
        return self.backend == "shared"

    def describe(self) -> str:
        if self.shared:
            return f"environment {self.name!r} (redis {self.redis_url}, volumes {self.volumes_url})"
        return f"environment {self.name!r} (embedded in {self.root})"


def get_environment(name: str | None = None, config: Config | None = None) -> Environment:
    """The environment ``name`` (default ``main``) as configured in ``config`` (default: the current config).

    ``config`` lets a viewer (the JupyterLab server showing a kernel's lake) read another
    ``LAKELET_HOME`` without switching the process-wide configuration.
    """
    name = DEFAULT_ENVIRONMENT if name is None else validate_name(name, "environment name")
    config = get_config() if config is None else config
    section = config.section("environments")
    spec = section.get(name, {})
    if not isinstance(spec, dict):
        raise InvalidArgument(f"[environments.{name}] in {config.config_file} must be a table")
    unknown = set(spec) - _KEYS
    if unknown:
        raise InvalidArgument(
            f"unknown keys {sorted(unknown)} in [environments.{name}] of {config.config_file}; known: {sorted(_KEYS)}"
        )
    root = Path(spec.get("path") or config.home / "primitives" / name).expanduser()
    backend = spec.get("backend") or ("shared" if spec.get("redis_url") else "embedded")
    if backend == "embedded":
        return Environment(name, "embedded", root)
    if backend != "shared":
        raise InvalidArgument(f"[environments.{name}] backend must be 'embedded' or 'shared', got {backend!r}")
    redis_url, volumes_url = spec.get("redis_url"), spec.get("volumes_url")
    if not isinstance(redis_url, str) or not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise InvalidArgument(f"[environments.{name}] is shared: it needs redis_url = 'redis://host:port/db'")
    if not isinstance(volumes_url, str) or "://" not in volumes_url:
        raise InvalidArgument(f"[environments.{name}] is shared: it needs volumes_url = 's3://bucket/prefix'")
    options = spec.get("storage_options", {})
    if not isinstance(options, dict):
        raise InvalidArgument(f"[environments.{name}.storage_options] must be a table")
    prefix = spec.get("redis_prefix", "")
    if not isinstance(prefix, str):
        raise InvalidArgument(f"[environments.{name}] redis_prefix must be a string")
    return Environment(
        name, "shared", root, redis_url, volumes_url.rstrip("/"), MappingProxyType(dict(options)), prefix
    )


__all__ = ["DEFAULT_ENVIRONMENT", "Environment", "get_environment"]
