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
import concurrent.futures
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import tornado.httputil
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import errors, lake, topology
from ..primitives.errors import NotFoundError

if TYPE_CHECKING:
    from .server import LakeProvider

T = TypeVar("T")

#: API version the frontend checks in its handshake; bump on incompatible changes
#: (2: volumes/dicts/queues/datasets/cache routes, the ``home`` parameter, hung tiers in the tree)
API_VERSION = 2
#: seconds one backend call may take before the reply says the tier did not answer
DEFAULT_DEADLINE = 10.0
#: the biggest POST body accepted (an evict request of MAX_EVICT keys fits easily)
MAX_BODY = 1 << 20

# first match wins: more specific classes come before their bases
_STATUS: tuple[tuple[type[errors.LakeletError], int], ...] = (
    (errors.StorageKeyNotFound, 404),
    (NotFoundError, 404),
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


class Backends:
    """Runs blocking backend calls off the event loop, each with a deadline.

    A pool of its own (not asyncio's small default executor) so slow tiers cannot starve
    other requests; calls with the same ``tag`` (one tier's usage, one listing) share one
    running thread, so repeated requests to a hung tier never pile up threads.
    """

    def __init__(self, workers: int = 32, deadline: float = DEFAULT_DEADLINE) -> None:
        self.deadline = deadline
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="lakelet-backend")
        self._lock = threading.Lock()
        self._running: dict[str, concurrent.futures.Future[Any]] = {}

    async def call(self, tag: str, what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)`` in the pool; :class:`LakeletTimeout` naming ``what`` after the deadline."""
        started = False
        with self._lock:
            future = self._running.get(tag)
            if future is None or future.done():
                future = self._pool.submit(func, *args, **kwargs)
                self._running[tag] = future
                started = True
        if started:  # outside the lock: a callback on a finished future runs at once, in this thread
            future.add_done_callback(lambda f, tag=tag: self._forget(tag, f))
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), self.deadline)
        except TimeoutError:
            # nobody awaits the late result: retrieve it when it comes, so asyncio does not log it
            waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise errors.LakeletTimeout(
                f"{what} did not answer within {self.deadline:g} s (the server keeps waiting for it in the "
                "background; other tiers are not affected)"
            ) from None

    def busy(self, tag: str) -> bool:
        """Whether a call with ``tag`` is still running (a tier that hung before)."""
        with self._lock:
            future = self._running.get(tag)
            return future is not None and not future.done()

    def _forget(self, tag: str, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            if self._running.get(tag) is future:
                del self._running[tag]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LakeletAPIHandler(APIHandler):
    """Base of lakelet's handlers: the lake provider, thread offloading and the error mapping."""

    @property
    def provider(self) -> LakeProvider:
        return self.settings["lakelet_provider"]

    @property
    def backends(self) -> Backends:
        return self.settings["lakelet_backends"]

    async def in_thread(self, func: Callable[..., T], *args: Any, what: str = "the lake", **kwargs: Any) -> T:
        """Run blocking storage code off the event loop, within the deadline."""
        # identical GETs share one backend call; a POST (its body matters) always runs its own
        tag = f"GET {self.request.uri}" if self.request.method == "GET" else f"{self.request.method} {id(self)}"
        return await self.backends.call(tag, what, func, *args, **kwargs)

    def params(self, *allowed: str) -> dict[str, str]:
        """The query parameters (JupyterLab's bare ``?<timestamp>`` cache buster skipped); unknown ones are refused."""
        found = {
            name: self.get_query_argument(name) for name in self.request.query_arguments if not name.isdigit()
        }
        found.pop("home", None)  # every route takes it: read by home(), not part of the route's own query
        unknown = set(found) - set(allowed)
        if unknown:
            raise errors.InvalidArgument(f"unknown parameters {sorted(unknown)}; this route takes {sorted(allowed)}")
        return found

    def home(self) -> str | None:
        """The ``home`` parameter: the LAKELET_HOME of the notebook's kernel, when it differs from the server's."""
        return self.get_query_argument("home", None) or None

    def snapshot(self) -> Any:
        return self.provider.snapshot(self.home())

    def page_args(self, params: dict[str, str], default_limit: int = 50) -> dict[str, int]:
        return {
            "offset": _int(params.get("offset"), "offset", 0),
            "limit": _int(params.get("limit"), "limit", default_limit),
        }

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
    """``GET /lakelet/api/topology[?usage=0][&home=...]``: the tree of the lake, usage per tier.

    Each tier's usage is computed in the backend pool with its own deadline: a tier that
    does not answer is marked ``hung`` with a message, and the rest of the tree still arrives.
    """

    @tornado.web.authenticated
    async def get(self) -> None:
        params = self.params("usage")
        usage = params.get("usage", "1") not in ("0", "false", "no")
        snapshot = self.snapshot()
        location = snapshot.storage.location
        tree = topology.topology(location, usage=False)
        if usage:
            nodes = {node["id"]: node for node in topology.walk_nodes(tree)}
            await asyncio.gather(*(self._usage(location, node) for node in nodes.values()))
        self.reply({
            "api": API_VERSION,
            "home": str(snapshot.config.home),
            "source": snapshot.source,
            "config_file": str(snapshot.config.config_file),
            "home_exists": snapshot.config.home.is_dir(),
            "lake": tree,
        })

    async def _usage(self, lake_location: Any, node: dict[str, Any]) -> None:
        tier = topology.resolve(lake_location, node["id"])
        what = f"tier {node['id']} ({node['kind']}: {node['url']})"
        try:
            node["usage"] = topology.usage_json(
                await self.backends.call(f"usage {id(tier)}", what, tier.usage)
            )
        except errors.LakeletTimeout as e:
            node["hung"] = True
            node["usage_error"] = str(e)
        except errors.LakeletError as e:  # one unreachable tier must not hide the others
            node["usage_error"] = str(e)


class TierHandler(LakeletAPIHandler):
    """``GET /lakelet/api/tiers/<id>?offset&limit&sort&order&filter&group``: one page of a tier's entries.

    ``group=entry``: the values of one cache entry together, under that entry (the sidebar asks so).
    """

    @tornado.web.authenticated
    async def get(self, node_id: str) -> None:
        query = topology.EntryQuery.from_params(self.params("offset", "limit", "sort", "order", "filter", "group"))
        snapshot = self.snapshot()
        lake_location = snapshot.storage.location
        tier = topology.resolve(lake_location, node_id)

        def page() -> dict[str, Any]:
            result = topology.list_entries(tier, query, snapshot.producers)
            return {"id": node_id, "kind": tier.kind, "url": topology.redact_url(tier.url), **result}

        what = f"tier {node_id} ({tier.kind}: {topology.redact_url(tier.url)})"
        self.reply(await self.in_thread(page, what=what))


class EvictHandler(LakeletAPIHandler):
    """``POST /lakelet/api/tiers/<id>/evict`` with ``{"keys": [...], "force": false}``;
    ``"check": true`` only answers ``{"only_copies": [...]}`` (the keys no other tier holds)."""

    @tornado.web.authenticated
    async def post(self, node_id: str) -> None:
        body = self.body_json()
        force = _flag(body.pop("force", False), "force")
        check = _flag(body.pop("check", False), "check")
        keys = body.pop("keys", None)
        _no_more(body)
        lake_location = self.snapshot().storage.location
        if check:  # only say which keys are only copies; remove nothing
            self.reply(await self.in_thread(topology.only_copies, lake_location, node_id, keys))
            return
        self.reply(await self.in_thread(topology.evict, lake_location, node_id, keys, force=force))


class ClearHandler(LakeletAPIHandler):
    """``POST /lakelet/api/tiers/<id>/clear`` with ``{"force": false}``."""

    @tornado.web.authenticated
    async def post(self, node_id: str) -> None:
        body = self.body_json()
        force = _flag(body.pop("force", False), "force")
        _no_more(body)
        lake_location = self.snapshot().storage.location
        self.reply(await self.in_thread(topology.clear, lake_location, node_id, force=force))


class ObjectsHandler(LakeletAPIHandler):
    """``GET /lakelet/api/objects/<volume|dict|queue>?env&offset&limit&filter``: named objects of an environment."""

    @tornado.web.authenticated
    async def get(self, kind: str) -> None:
        params = self.params("env", "offset", "limit", "filter")
        config = self.snapshot().config
        self.reply(await self.in_thread(
            lake.list_objects, config, kind, env=params.get("env"), filter=params.get("filter", ""),
            what=f"the {kind}s' catalog", **self.page_args(params),
        ))


class VolumeHandler(LakeletAPIHandler):
    """``GET /lakelet/api/volumes/<name>?path&env&offset&limit``: one folder of a volume."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        params = self.params("path", "env", "offset", "limit")
        config = self.snapshot().config
        self.reply(await self.in_thread(
            lake.volume_listing, config, name, params.get("path", "/"), env=params.get("env"),
            what=f"volume {name!r}", **self.page_args(params, 100),
        ))


class DictHandler(LakeletAPIHandler):
    """``GET /lakelet/api/dicts/<name>?env&offset&limit``: a page of a Dict's keys and value previews."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        params = self.params("env", "offset", "limit")
        config = self.snapshot().config
        self.reply(await self.in_thread(
            lake.dict_items, config, name, env=params.get("env"), what=f"dict {name!r}", **self.page_args(params)
        ))


class QueueHandler(LakeletAPIHandler):
    """``GET /lakelet/api/queues/<name>?env&n``: a Queue's length and head (items stay in the queue)."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        params = self.params("env", "n")
        config = self.snapshot().config
        self.reply(await self.in_thread(
            lake.queue_head, config, name, env=params.get("env"), n=_int(params.get("n"), "n", 10),
            what=f"queue {name!r}",
        ))


class DatasetsHandler(LakeletAPIHandler):
    """``GET /lakelet/api/datasets?offset&limit&filter``, or ``?path=...`` for one dataset's versions and schema."""

    @tornado.web.authenticated
    async def get(self) -> None:
        params = self.params("path", "offset", "limit", "filter")
        config = self.snapshot().config
        if "path" in params:
            self.reply(await self.in_thread(
                lake.dataset_summary, config, params["path"], what=f"dataset {params['path']}",
                **self.page_args(params, 20),
            ))
            return
        self.reply(await self.in_thread(
            lake.list_datasets, config, filter=params.get("filter", ""), what="the datasets folder",
            **self.page_args(params),
        ))


class CacheHandler(LakeletAPIHandler):
    """``GET /lakelet/api/cache?offset&limit&filter&sort``: cache entries grouped by function/cell;
    ``?kind=function|cell&name=...``: one group's history and a preview of its latest value."""

    @tornado.web.authenticated
    async def get(self) -> None:
        params = self.params("kind", "name", "offset", "limit", "filter", "sort")
        snapshot = self.snapshot()
        if "name" in params:
            self.reply(await self.in_thread(
                lake.cache_group, snapshot.config, params.get("kind", "function"), params["name"],
                snapshot.storage, what=f"the cache entry of {params['name']!r}",
            ))
            return
        self.reply(await self.in_thread(
            lake.cache_groups, snapshot.config, filter=params.get("filter", ""),
            sort=params.get("sort", "computed"), what="the cache journal", **self.page_args(params),
        ))


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise errors.InvalidArgument(f"{name} must be an integer, got {raw!r:.40}") from e


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise errors.InvalidArgument(f"{name} must be true or false, got {value!r:.40}")
    return value


def _no_more(body: dict[str, Any]) -> None:
    if body:
        raise errors.InvalidArgument(f"unexpected fields {sorted(body)} in the request body")


def setup_handlers(
    web_app: tornado.web.Application, provider: LakeProvider, backends: Backends | None = None
) -> None:
    """Mount the lakelet API under the server's base URL."""
    base = url_path_join(web_app.settings["base_url"], "lakelet", "api")
    tier = r"/tiers/([^/]+)"  # any segment: topology.resolve() turns a bad id into a JSON 400
    web_app.settings["lakelet_provider"] = provider
    web_app.settings["lakelet_backends"] = backends or Backends()
    web_app.add_handlers(
        ".*$",
        [
            (base + "/version", VersionHandler),
            (base + "/topology", TopologyHandler),
            (base + tier, TierHandler),
            (base + tier + "/evict", EvictHandler),
            (base + tier + "/clear", ClearHandler),
            (base + r"/objects/([a-z]+)", ObjectsHandler),
            (base + r"/volumes/([^/]+)", VolumeHandler),
            (base + r"/dicts/([^/]+)", DictHandler),
            (base + r"/queues/([^/]+)", QueueHandler),
            (base + "/datasets", DatasetsHandler),
            (base + "/cache", CacheHandler),
        ],
    )
