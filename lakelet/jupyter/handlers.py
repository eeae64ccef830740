"""REST handlers of the lakelet server extension (``/lakelet/api/...``).

Every handler requires Jupyter's authentication (token or login cookie; POSTs
also pass Jupyter's XSRF check) and only ever touches locations of the
configured lake, addressed by node id (see :mod:`lakelet.jupyter.topology`).
Errors are translated in exactly one place, :meth:`LakeletAPIHandler.write_error`
with :func:`status_for`: lakelet errors become JSON with their message, anything
else a generic 500 JSON body (the traceback goes to the server log only).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import tornado.httputil
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import errors
from . import topology

if TYPE_CHECKING:
    from .server import LakeProvider

T = TypeVar("T")

#: API version the frontend checks in its handshake; bump on incompatible changes
API_VERSION = 1
#: the biggest POST body accepted (an evict request of MAX_EVICT keys fits easily)
MAX_BODY = 1 << 20

# first match wins: more specific classes come before their bases
_STATUS: tuple[tuple[type[errors.LakeletError], int], ...] = (
    (errors.StorageKeyNotFound, 404),
    (errors.InvalidArgument, 400),
    (errors.StorageAccessDenied, 403),
    (errors.PreconditionFailed, 409),
    (errors.CollisionError, 409),
    (errors.MissingDependency, 424),
    (errors.StorageFull, 507),
    (errors.StorageNetworkConnectionError, 502),
    (errors.LakeletTimeout, 504),
)


def status_for(error: BaseException) -> int:
    """The HTTP status for an exception raised while serving a request."""
    if isinstance(error, tornado.web.HTTPError):
        return error.status_code
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    if isinstance(error, errors.StorageError):
        return 500  # internal error or corruption of a backend: the message is still meaningful
    if isinstance(error, errors.LakeletError):
        return 400
    return 500


class LakeletAPIHandler(APIHandler):
    """Base of lakelet's handlers: the lake provider, thread offloading and the error mapping."""

    @property
    def provider(self) -> LakeProvider:
        return self.settings["lakelet_provider"]

    async def in_thread(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking storage code off the event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)

    def reply(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def body_json(self) -> dict[str, Any]:
        """The request body as a JSON object (an empty body is ``{}``)."""
        raw = self.request.body or b""
        if len(raw) > MAX_BODY:
            raise errors.InvalidArgument(f"request body too large ({len(raw)} bytes, at most {MAX_BODY})")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise errors.InvalidArgument(f"request body is not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise errors.InvalidArgument("request body must be a JSON object")
        return data

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Expected lakelet errors get one warning line; anything else the full traceback."""
        if isinstance(value, errors.LakeletError):
            self.log.warning("lakelet: %s %s -> %s: %s", self.request.method, self.request.path,
                             type(value).__name__, value)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The one exception -> HTTP translation: JSON ``{"message", "error"}``, never a traceback."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, tornado.web.HTTPError):
            message = error.log_message or error.reason or tornado.httputil.responses.get(status_code, "error")
            name = "HTTPError"
        elif isinstance(error, errors.LakeletError):
            status_code = status_for(error)
            message, name = str(error), type(error).__name__
        else:
            message = "internal error in the lakelet server extension; the server log has the details"
            name = "InternalError"
            if error is not None:
                self.log.error("lakelet handler failed", exc_info=exc_info)
        self.clear()
        self.set_status(status_code)
        self.reply({"message": message, "error": name, "status": status_code})


class VersionHandler(LakeletAPIHandler):
    """``GET /lakelet/api/version``: what the frontend checks before anything else."""

    @tornado.web.authenticated
    async def get(self) -> None:
        from .. import __version__

        self.reply({"version": __version__, "api": API_VERSION})


class TopologyHandler(LakeletAPIHandler):
    """``GET /lakelet/api/topology[?usage=0]``: the tree of the configured lake."""

    @tornado.web.authenticated
    async def get(self) -> None:
        usage = self.get_query_argument("usage", "1") not in ("0", "false", "no")
        snapshot = self.provider.snapshot()
        tree = await self.in_thread(topology.topology, snapshot.storage.location, usage=usage)
        self.reply({"api": API_VERSION, "home": str(snapshot.config.home), "lake": tree})


class TierHandler(LakeletAPIHandler):
    """``GET /lakelet/api/tiers/<id>?offset&limit&sort&order&filter``: one page of a tier's entries."""

    @tornado.web.authenticated
    async def get(self, node_id: str) -> None:
        # JupyterLab's ServerConnection appends a bare "?<timestamp>" cache buster to GETs: skip it
        params = {
            name: self.get_query_argument(name) for name in self.request.query_arguments if not name.isdigit()
        }
        query = topology.EntryQuery.from_params(params)
        snapshot = self.provider.snapshot()
        lake = snapshot.storage.location

        def page() -> dict[str, Any]:
            tier = topology.resolve(lake, node_id)
            result = topology.list_entries(tier, query, snapshot.producers)
            return {"id": node_id, "kind": tier.kind, "url": topology.redact_url(tier.url), **result}

        self.reply(await self.in_thread(page))


class EvictHandler(LakeletAPIHandler):
    """``POST /lakelet/api/tiers/<id>/evict`` with ``{"keys": [...], "force": false}``."""

    @tornado.web.authenticated
    async def post(self, node_id: str) -> None:
        body = self.body_json()
        force = _flag(body.pop("force", False), "force")
        keys = body.pop("keys", None)
        _no_more(body)
        lake = self.provider.snapshot().storage.location
        self.reply(await self.in_thread(topology.evict, lake, node_id, keys, force=force))


class ClearHandler(LakeletAPIHandler):
    """``POST /lakelet/api/tiers/<id>/clear`` with ``{"force": false}``."""

    @tornado.web.authenticated
    async def post(self, node_id: str) -> None:
        body = self.body_json()
        force = _flag(body.pop("force", False), "force")
        _no_more(body)
        lake = self.provider.snapshot().storage.location
        self.reply(await self.in_thread(topology.clear, lake, node_id, force=force))


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise errors.InvalidArgument(f"{name} must be true or false, got {value!r:.40}")
    return value


def _no_more(body: dict[str, Any]) -> None:
    if body:
        raise errors.InvalidArgument(f"unexpected fields {sorted(body)} in the request body")


def setup_handlers(web_app: tornado.web.Application, provider: LakeProvider) -> None:
    """Mount the lakelet API under the server's base URL."""
    base = url_path_join(web_app.settings["base_url"], "lakelet", "api")
    tier = r"/tiers/([^/]+)"  # any segment: topology.resolve() turns a bad id into a JSON 400
    web_app.settings["lakelet_provider"] = provider
    web_app.add_handlers(
        ".*$",
        [
            (base + "/version", VersionHandler),
            (base + "/topology", TopologyHandler),
            (base + tier, TierHandler),
            (base + tier + "/evict", EvictHandler),
            (base + tier + "/clear", ClearHandler),
        ],
    )
