"""``Secret``: credentials handed to mounts and backends, never printed.

>>> s = Secret.from_dict({"AWS_ACCESS_KEY_ID": "AKIA...", "AWS_SECRET_ACCESS_KEY": "..."})
>>> s
Secret(keys=['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from ..config import get_config
from ..errors import InvalidArgument
from .errors import NotFoundError
from .names import validate_name


class Secret(Mapping[str, str]):
    """A read-only mapping of credential names to values; ``repr``/``str`` show the names only.

    Named secrets live in ``$LAKELET_HOME/config.toml`` under ``[secrets.<name>]``
    (keep that file private: ``chmod 600``).
    """

    __slots__ = ("_values", "_name")

    def __init__(self, values: Mapping[str, str], name: str | None = None) -> None:
        for k, v in values.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise InvalidArgument(f"secret entries must map str to str; {k!r} does not")
        self._values = MappingProxyType(dict(values))
        self._name = name

    @classmethod
    def from_dict(cls, env_dict: Mapping[str, str | None]) -> Secret:
        """A secret from a dict (entries whose value is None are dropped, as in Modal)."""
        return cls({k: v for k, v in env_dict.items() if v is not None})

    @classmethod
    def from_name(cls, name: str, *, environment_name: str | None = None) -> Secret:
        """The secret ``[secrets.<name>]`` of config.toml (or ``[secrets.<environment>.<name>]``)."""
        validate_name(name, "secret name")
        config = get_config()
        section = config.section("secrets")
        if environment_name is not None:
            section = section.get(validate_name(environment_name, "environment name"), {})
        values = section.get(name)
        if not isinstance(values, dict):
            raise NotFoundError(f"secret {name!r} not found: add a [secrets.{name}] table to {config.config_file}")
        return cls(values, name)

    @classmethod
    def from_local_environ(cls, env_keys: Iterable[str]) -> Secret:
        """A secret made of these variables of the current process environment (all must be set)."""
        keys = list(env_keys)
        missing = [k for k in keys if k not in os.environ]
        if missing:
            raise InvalidArgument(f"environment variables not set: {', '.join(missing)}")
        return cls({k: os.environ[k] for k in keys})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        name = f"name={self._name!r}, " if self._name else ""
        return f"Secret({name}keys={sorted(self._values)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and dict(self._values) == dict(other._values)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))


__all__ = ["Secret"]
