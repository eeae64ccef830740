"""One credential vocabulary, translated at the edge into what each backend's location takes.

Every layer that opens storage (locations, dataset roots, volume blobs, NFS,
CloudBucketMount) accepts the same names:

* Deep Lake's ``creds`` names (``aws_access_key_id``, ``endpoint_url``,
  ``google_application_credentials``, ``azure_storage_connection_string``...),
  translated here into the keyword arguments of :class:`~lakelet.locations.s3.S3`,
  :class:`~lakelet.locations.gcs.GCS`, :class:`~lakelet.locations.azure.Azure`;
* the backend's own options (fsspec ``storage_options``: ``key``/``secret``,
  ``token``, ``connection_string``, ``username``/``client_keys``...), passed through;
* Modal-style secret names (``AWS_ACCESS_KEY_ID``, ``SERVICE_ACCOUNT_JSON``,
  ``AZURE_STORAGE_KEY``...) through :func:`creds_from_secret`.

Deep Lake names of another backend are ignored (one creds dict may serve a
copy between clouds); any other unknown name raises :class:`InvalidArgument`
naming it, before anything is opened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .errors import InvalidArgument

#: backend -> Deep Lake creds name -> the location's keyword argument
DEEPLAKE_NAMES: dict[str, dict[str, str]] = {
    "s3": {
        "aws_access_key_id": "key",
        "aws_secret_access_key": "secret",
        "aws_session_token": "token",
        "aws_region": "region",
        "endpoint_url": "endpoint_url",
    },
    "gcs": {
        "google_application_credentials": "token",
        "google_application_credentials_json": "token",
        "google_project": "project",
        "endpoint_url": "endpoint_url",
    },
    "azure": {
        "azure_storage_account": "account_name",
        "azure_storage_key": "account_key",
        "azure_storage_connection_string": "connection_string",
        "azure_storage_sas_token": "sas_token",
    },
}

#: backend -> options of its location (and fsspec filesystem) accepted as they are
NATIVE_NAMES: dict[str, frozenset[str]] = {
    "s3": frozenset({"key", "secret", "token", "endpoint_url", "region", "client_kwargs", "config_kwargs", "anon",
                     "profile", "requester_pays", "connect_timeout", "read_timeout", "deadline", "retries"}),
    "gcs": frozenset({"token", "project", "endpoint_url", "requester_pays", "timeout", "retries"}),
    "azure": frozenset({"account_name", "account_key", "connection_string", "sas_token", "credential", "anon",
                        "connect_timeout", "read_timeout", "retries"}),
    "sftp": frozenset({"username", "password", "client_keys", "known_hosts", "port", "passphrase",
                       "connect_timeout", "keepalive_interval"}),
    "memory": frozenset(),
    "local": frozenset(),
}

ALL_DEEPLAKE_NAMES = frozenset(name for names in DEEPLAKE_NAMES.values() for name in names)

#: Modal/environment-style secret names -> Deep Lake creds names
SECRET_NAMES: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
    "AWS_SESSION_TOKEN": "aws_session_token",
    "AWS_REGION": "aws_region",
    "AWS_DEFAULT_REGION": "aws_region",
    "AWS_ENDPOINT_URL": "endpoint_url",
    "SERVICE_ACCOUNT_JSON": "google_application_credentials_json",
    "GOOGLE_APPLICATION_CREDENTIALS": "google_application_credentials",
    "GOOGLE_CLOUD_PROJECT": "google_project",
    "AZURE_STORAGE_ACCOUNT": "azure_storage_account",
    "AZURE_STORAGE_ACCOUNT_NAME": "azure_storage_account",
    "AZURE_STORAGE_KEY": "azure_storage_key",
    "AZURE_STORAGE_CONNECTION_STRING": "azure_storage_connection_string",
    "AZURE_STORAGE_SAS_TOKEN": "azure_storage_sas_token",
}


def backend_of(scheme: str) -> str:
    """The backend family of a URL scheme (``gs`` -> ``gcs``, ``abfs`` -> ``azure``...)."""
    scheme = scheme.lower()
    return {"": "local", "file": "local", "gs": "gcs", "az": "azure", "abfs": "azure", "scp": "sftp",
            "ssh": "sftp", "mem": "memory"}.get(scheme, scheme)


def location_options(backend: str, creds: Mapping[str, Any] | None, what: str = "creds") -> dict[str, Any]:
    """Keyword arguments for ``backend``'s location from ``creds`` (either vocabulary).

    Raises :class:`InvalidArgument` naming unknown keys; the values are not shown
    (they are secrets).
    """
    if creds is None:
        return {}
    if not isinstance(creds, Mapping):
        raise InvalidArgument(f"{what} must be a dict, got {type(creds).__name__}")
    deeplake = DEEPLAKE_NAMES.get(backend, {})
    native = NATIVE_NAMES.get(backend, frozenset())
    unknown = sorted(k for k in creds if k not in deeplake and k not in native and k not in ALL_DEEPLAKE_NAMES)
    if unknown:
        expected = sorted({*deeplake, *native}) or ["(none: this backend takes no credentials)"]
        raise InvalidArgument(f"unknown {what} keys {unknown} for {backend}; expected some of {expected}")
    out: dict[str, Any] = {}
    for name, value in creds.items():
        if name in deeplake:
            out[deeplake[name]] = _value(name, value)
        elif name in native:
            out[name] = value
        # a Deep Lake name of another backend: ignored
    if backend == "gcs" and "endpoint_url" in out and "token" not in out:
        out["token"] = "anon"  # an emulator (fake-gcs-server) without credentials
    return out


def translate(backend: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with this backend's Deep Lake names renamed to its location's arguments.

    No validation (a location's own options such as ``max_size`` pass as they are):
    this is how :func:`lakelet.registry.open_location` accepts both vocabularies.
    """
    deeplake = DEEPLAKE_NAMES.get(backend, {})
    out = {deeplake.get(name, name): _value(name, value) if name in deeplake else value
           for name, value in options.items()}
    if backend == "gcs" and "endpoint_url" in out and "token" not in out:
        out["token"] = "anon"
    return out


def _value(name: str, value: Any) -> Any:
    if name == "google_application_credentials_json" and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise InvalidArgument(f"creds {name!r} is not valid JSON: {e.msg}") from None
    if name == "google_application_credentials":
        return str(value)
    return value


def creds_from_secret(secret: Mapping[str, str]) -> dict[str, Any]:
    """Deep Lake creds from environment-style secret names (``AWS_ACCESS_KEY_ID`` -> ``aws_access_key_id``).

    Names without a storage meaning are left out (a secret may hold other things).
    """
    out: dict[str, Any] = {}
    for name, creds_name in SECRET_NAMES.items():
        if name in secret and creds_name not in out:
            out[creds_name] = secret[name]
    return out


__all__ = ["DEEPLAKE_NAMES", "NATIVE_NAMES", "backend_of", "creds_from_secret", "location_options", "translate"]
