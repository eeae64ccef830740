"""What every named primitive shares: ``from_name``, ``persist``, ``ephemeral``, ``objects``, ``info``."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Generic, TypeVar

from .aio import class_twin, run_blocking, twin
from .catalog import ObjectInfo, ObjectRecord, open_catalog
from .env import Environment, get_environment
from .errors import AlreadyExistsError, NotFoundError
from .names import validate_name

T = TypeVar("T", bound="NamedObject")


class ObjectsDescriptor:
    """Gives each subclass its own :class:`Objects` manager at ``X.objects``."""

    def __get__(self, obj: Any, objtype: type | None = None) -> Objects[Any]:
        cls = objtype if objtype is not None else type(obj)
        manager = getattr(cls, "_objects_manager", None) or Objects  # a kind may add verbs (Volume: gc)
        return manager(cls)


class NamedObject:
    """Base of Volume, NetworkFileSystem, Dict and Queue: a named object in an environment."""

    _kind: ClassVar[str] = "object"
    #: creation options (e.g. a Dict's ``default_ttl``) and their validators
    _options: ClassVar[tuple[str, ...]] = ()
    #: ``X.objects.list()/create()/delete()``
    objects: ClassVar[ObjectsDescriptor] = ObjectsDescriptor()

    def __init__(self, record: ObjectRecord, env: Environment) -> None:
        self._record = record
        self._env = env

    # ------------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def environment_name(self) -> str:
        return self._env.name

    @property
    def object_id(self) -> str:
        """Stable id of this object's data (a re-created object of the same name gets a new one)."""
        return self._record.id

    def __repr__(self) -> str:
        return f"{type(self).__name__}.from_name({self.name!r}, environment_name={self.environment_name!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.object_id == self.object_id  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.object_id))

    # ------------------------------------------------------------------ lookup and creation
    @class_twin
    def from_name(
        cls: type[T],
        name: str,
        *,
        environment_name: str | None = None,
        create_if_missing: bool = False,
        **options: Any,
    ) -> T:
        """The object called ``name``; raises :class:`NotFoundError` unless it exists or
        ``create_if_missing`` (then ``options`` configure the new object)."""
        validate_name(name, f"{cls._kind} name")
        env = get_environment(environment_name)
        catalog = open_catalog(env)
        record = catalog.get(cls._kind, name)
        if record is None:
            if not create_if_missing:
                raise NotFoundError(
                    f"{cls._kind} {name!r} not found in {env.describe()}; "
                    f"create it with {cls.__name__}.from_name({name!r}, create_if_missing=True) "
                    f"or `lakelet {cls._kind} create {name}`"
                )
            cls._check_options(options)
            record = ObjectRecord.new(cls._kind, name, options=options)
            if not catalog.create(record):  # lost a creation race: use the winner's object
                record = catalog.get(cls._kind, name)
                if record is None:
                    raise NotFoundError(f"{cls._kind} {name!r} was deleted while it was being created")
            else:
                cls._initialize(env, record)
        return cls(record, env)

    @class_twin
    def persist(cls: type[T], name: str, *, environment_name: str | None = None, **options: Any) -> T:
        """The object called ``name``, created if missing (the seed's spelling)."""
        return cls.from_name(name, environment_name=environment_name, create_if_missing=True, **options)

    @classmethod
    def ephemeral(cls: type[T], *, environment_name: str | None = None, **options: Any) -> _Ephemeral[T]:
        """A context manager (``with`` or ``async with``) yielding a new object deleted on exit."""
        return _Ephemeral(cls, environment_name, options)

    @twin
    def info(self) -> ObjectInfo:
        """Name, creation time and creator of this object."""
        return self._record.info(self.environment_name)

    # ------------------------------------------------------------------ hooks for subclasses
    @classmethod
    def _check_options(cls, options: dict[str, Any]) -> None:
        unknown = set(options) - set(cls._options)
        if unknown:
            known = ", ".join(cls._options) or "none"
            raise TypeError(f"unknown {cls.__name__} options {sorted(unknown)}; known options: {known}")

    @classmethod
    def _initialize(cls, env: Environment, record: ObjectRecord) -> None:
        """Prepare storage for a newly created object (default: nothing)."""

    @classmethod
    def _destroy(cls, env: Environment, record: ObjectRecord) -> None:
        """Remove every byte of a deleted object's data."""
        raise NotImplementedError


class _Ephemeral(Generic[T]):
    def __init__(self, cls: type[T], environment_name: str | None, options: dict[str, Any]) -> None:
        self._cls, self._environment, self._options = cls, environment_name, options
        self._obj: T | None = None

    def __enter__(self) -> T:
        cls = self._cls
        cls._check_options(self._options)
        env = get_environment(self._environment)
        name = f"ephemeral-{uuid.uuid4().hex[:16]}"
        record = ObjectRecord.new(cls._kind, name, ephemeral=True, options=self._options)
        if not open_catalog(env).create(record):
            raise AlreadyExistsError(f"{cls._kind} {name!r} exists already")  # a uuid collision
        cls._initialize(env, record)
        self._obj = cls(record, env)
        return self._obj

    def __exit__(self, *exc: object) -> None:
        if self._obj is not None:
            _delete(self._cls, self._obj.name, self._obj.environment_name, allow_missing=True)
            self._obj = None

    async def __aenter__(self) -> T:
        return await run_blocking(self.__enter__)

    async def __aexit__(self, *exc: object) -> None:
        await run_blocking(self.__exit__, *exc)


def _delete(cls: type[NamedObject], name: str, environment_name: str | None, *, allow_missing: bool) -> None:
    validate_name(name, f"{cls._kind} name")
    env = get_environment(environment_name)
    record = open_catalog(env).remove(cls._kind, name)
    if record is None:
        if allow_missing:
            return
        raise NotFoundError(f"{cls._kind} {name!r} not found in {env.describe()}")
    cls._destroy(env, record)


class Objects(Generic[T]):
    """``X.objects``: list, create and delete the objects of one kind."""

    def __init__(self, cls: type[T]) -> None:
        self._cls = cls

    @twin
    def list(self, *, environment_name: str | None = None, include_ephemeral: bool = False) -> list[T]:
        """Every object of this kind in the environment, by name."""
        env = get_environment(environment_name)
        records = open_catalog(env).list(self._cls._kind)
        return [self._cls(r, env) for r in records if include_ephemeral or not r.ephemeral]

    @twin
    def create(
        self, name: str, *, environment_name: str | None = None, allow_existing: bool = False, **options: Any
    ) -> None:
        """Create ``name``; raises :class:`AlreadyExistsError` if it exists, unless ``allow_existing``."""
        cls = self._cls
        validate_name(name, f"{cls._kind} name")
        cls._check_options(options)
        env = get_environment(environment_name)
        record = ObjectRecord.new(cls._kind, name, options=options)
        if open_catalog(env).create(record):
            cls._initialize(env, record)
        elif not allow_existing:
            raise AlreadyExistsError(f"{cls._kind} {name!r} already exists in {env.describe()}")

    @twin
    def delete(self, name: str, *, environment_name: str | None = None, allow_missing: bool = False) -> None:
        """Delete ``name`` and all its data. Handles still open on it must not be used afterwards."""
        _delete(self._cls, name, environment_name, allow_missing=allow_missing)


__all__ = ["NamedObject", "Objects", "ObjectsDescriptor"]
