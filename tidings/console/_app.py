"""The console's ASGI application (Starlette): pages, fragments for live updates, the JSON API."""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import anyio
import jinja2
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from tidings.console import _views as views
from tidings.console._config import LOOPBACK, ConsoleConfig
from tidings.console._filters import FIELDS, BadFilter, parse_filter, uuid_param
from tidings.console._logs import Log, start_writes
from tidings.console._replay import Job, Jobs, Selection, affected, make_selection
from tidings.console._security import CSRF_FIELD, CSRF_HEADER, Guard, new_secret, same
from tidings.runtime.stores import STATUSES

HERE = Path(__file__).parent
Handler = Callable[[Request], Awaitable[Response]]


class _Console:
    """The state behind the routes: the logs, the replay jobs, the CSRF secret."""

    def __init__(self, config: ConsoleConfig, logs: list[Log]) -> None:
        self.config = config
        self.logs = logs
        self.jobs = Jobs(config.replay_timeout)
        self.csrf = new_secret()
        self.tg: TaskGroup | None = None
        self.templates = Jinja2Templates(env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined))
        env = self.templates.env
        env.globals.update(console=self, statuses=STATUSES, time=views.time, pretty=views.pretty,
                           summary=views.summary, urlencode=urlencode)

    def render(self, request: Request, name: str, code: int = 200, **context: Any) -> Response:
        return self.templates.TemplateResponse(request, name, context, status_code=code)

    def log(self, index: str | int | None) -> Log:
        try:
            return self.logs[int(index or 0)]
        except (ValueError, IndexError):
            raise BadFilter(f"log: {index!r} is not one of the logs (0..{len(self.logs) - 1})") from None

    def follow(self, fn: Callable[[Job], Coroutine[Any, Any, None]], job: Job) -> None:
        assert self.tg is not None
        self.tg.start_soon(fn, job)

    def writes(self) -> bool:
        return not self.config.read_only


def _actor(request: Request, given: str | None) -> str:
    who = (given or "").strip()[:100] or "anonymous"
    client = request.client.host if request.client else "?"
    via = "token" if request.app.state.console.config.token else f"local user {getpass.getuser()}"
    return f"{who} from {client} ({via})"


def create_app(config: ConsoleConfig, logs: list[Log]) -> Starlette:
    """The console over `logs` (from `open_logs`), guarded as `config` says. Its lifespan opens the
    writable stores (unless read-only) and follows replays; it does not close the readers."""
    console = _Console(config, logs)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if console.writes():
                await start_writes(logs, stack)
            async with anyio.create_task_group() as tg:
                console.tg = tg
                yield
                tg.cancel_scope.cancel()

    def html_errors(fn: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except BadFilter as exc:
                return console.render(request, "error.html", 400, error=str(exc))
        wrapped.__doc__ = fn.__doc__
        return wrapped

    def api_errors(fn: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except (BadFilter, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        wrapped.__doc__ = fn.__doc__
        return wrapped

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    # -- shared -------------------------------------------------------------------------------

    async def list_page(request: Request) -> tuple[Any, list[views.Found], UUID | None]:
        where = parse_filter(request.query_params)
        before_text = request.query_params.get("before", "").strip()
        before = uuid_param(before_text, "before") if before_text else None
        limit = min(max(int(request.query_params.get("limit", config.page_size) or 50), 1), 500)
        found = await run(views.page, logs, where, before, limit)
        older = found[-1].entry.message.id if len(found) == limit else None
        return where, found, older

    def query_without(request: Request, *drop: str) -> str:
        return urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in drop and v])

    async def checked_form(request: Request) -> FormData:
        form = await request.form()
        token = form.get(CSRF_FIELD)
        if not same(token if isinstance(token, str) else None, console.csrf):
            raise PermissionError("the form's CSRF token is missing or stale: reload the page")
        return form

    def selection_from_form(form: FormData) -> Selection:
        keys = [k for k in form.getlist("key") if isinstance(k, str)]
        def text(name: str) -> str | None:
            value = form.get(name)
            return value if isinstance(value, str) and value else None
        return make_selection(int(text("log") or 0), text("kind") or "", text("message_id"),
                              text("subscriber"), keys)

    # -- pages --------------------------------------------------------------------------------

    @html_errors
    async def messages(request: Request) -> Response:
        _, found, older = await list_page(request)
        live = "before" not in request.query_params
        return console.render(
            request, "messages.html", found=found, older=older, filters=request.query_params,
            fields=FIELDS, query=query_without(request, "before"), live=live,
        )

    @html_errors
    async def rows_fragment(request: Request) -> Response:
        _, found, _ = await list_page(request)
        return console.render(request, "_rows.html", found=found)

    async def counts_fragment(request: Request) -> Response:
        counts = await run(views.counts, logs)
        return console.render(request, "_counts.html", counts=counts)

    @html_errors
    async def message(request: Request) -> Response:
        message_id = uuid_param(request.path_params["id"], "message id")
        found = await run(views.find, logs, message_id)
        if found is None:
            return console.render(request, "error.html", 404, error=f"no message {message_id} in the logs")
        return console.render(request, "message.html", found=found, m=found.entry.message,
                              fragment=False)

    @html_errors
    async def deliveries_fragment(request: Request) -> Response:
        found = await run(views.find, logs, uuid_param(request.path_params["id"], "message id"))
        if found is None:
            return HTMLResponse("", status_code=404)
        return console.render(request, "_deliveries.html", found=found, m=found.entry.message)

    @html_errors
    async def thread(request: Request) -> Response:
        correlation = uuid_param(request.path_params["id"], "correlation id")
        roots, total = await run(views.thread, logs, correlation)
        if not total:
            return console.render(request, "error.html", 404,
                                  error=f"no message has correlation id {correlation}")
        return console.render(request, "thread.html", roots=roots, total=total, correlation=correlation)

    @html_errors
    async def problems(request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status not in (None, "failed", "dead"):
            raise BadFilter(f"status: {status!r} is not failed or dead")
        groups = await run(views.problems, logs, status)
        return console.render(request, "problems.html", groups=groups, status=status)

    async def form_selection(request: Request) -> tuple[FormData, Selection, Log] | Response:
        if not console.writes():
            return console.render(request, "error.html", 403, error="this console is read-only")
        try:
            form = await checked_form(request)
            selection = selection_from_form(form)
            return form, selection, console.log(selection.log)
        except PermissionError as exc:
            return console.render(request, "error.html", 403, error=str(exc))
        except ValueError as exc:
            return console.render(request, "error.html", 400, error=str(exc))

    async def confirm(request: Request) -> Response:
        picked = await form_selection(request)
        if isinstance(picked, Response):
            return picked
        _, selection, log = picked
        rows = await run(affected, log, selection)
        return console.render(request, "confirm.html", selection=selection, rows=rows, log=log)

    async def replay(request: Request) -> Response:
        picked = await form_selection(request)
        if isinstance(picked, Response):
            return picked
        form, selection, log = picked
        who = form.get("who")
        rows = await run(affected, log, selection)
        job = await console.jobs.run(log, selection, _actor(request, who if isinstance(who, str) else None),
                                     rows, console.follow)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    def job_of(request: Request) -> Job | None:
        try:
            return console.jobs.jobs.get(int(request.path_params["id"]))
        except ValueError:
            return None

    async def job_page(request: Request) -> Response:
        job = job_of(request)
        if job is None:
            return console.render(request, "error.html", 404, error="no such replay")
        return console.render(request, "job.html", job=job)

    async def job_fragment(request: Request) -> Response:
        job = job_of(request)
        if job is None:
            return HTMLResponse("", status_code=404)
        response = console.render(request, "_job.html", job=job)
        if job.finished:
            response.headers["x-refresh-done"] = "1"
        return response

    async def actions(request: Request) -> Response:
        found = []
        for log in logs:
            if log.audit is not None:
                found += [(log, a) for a in await run(log.audit.recent, 200)]
        found.sort(key=lambda pair: pair[1].at, reverse=True)
        return console.render(request, "actions.html", actions=found)

    # -- API ----------------------------------------------------------------------------------

    @api_errors
    async def api_messages(request: Request) -> Response:
        """
        summary: Messages, newest first (keyset paged)
        description: >
          Query parameters name, status, subscriber, producer, since, until (ISO time or a
          duration back from now such as 30m), correlation, q (text in the payload), before
          (the `next_before` of the previous page) and limit.
        responses:
          200: {description: "{messages: [...], next_before: id or null}"}
        """
        _, found, older = await list_page(request)
        return JSONResponse({"messages": [views.entry_json(f) for f in found],
                             "next_before": None if older is None else str(older)})

    async def api_counts(request: Request) -> Response:
        """
        summary: Deliveries per status over every log
        responses:
          200: {description: "{pending: n, running: n, succeeded: n, failed: n, dead: n}"}
        """
        return JSONResponse(await run(views.counts, logs))

    @api_errors
    async def api_message(request: Request) -> Response:
        """
        summary: One message with its deliveries
        responses:
          200: {description: A message}
          404: {description: No such message}
        """
        found = await run(views.find, logs, uuid_param(request.path_params["id"], "message id"))
        if found is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return JSONResponse(views.entry_json(found))

    @api_errors
    async def api_thread(request: Request) -> Response:
        """
        summary: Every message of a correlation id, as a causation tree
        responses:
          200: {description: "{count: n, roots: [{message, children: [...]}]}"}
        """
        roots, total = await run(views.thread, logs, uuid_param(request.path_params["id"], "correlation id"))

        def node(n: views.Node) -> dict[str, Any]:
            return {"message": views.entry_json(n.found), "offset_ms": n.offset_ms,
                    "children": [node(c) for c in n.children]}

        return JSONResponse({"count": total, "roots": [node(r) for r in roots]})

    async def api_problems(request: Request) -> Response:
        """
        summary: Failed and dead deliveries grouped by log, subscriber and error type
        responses:
          200: {description: "{groups: [{log, subscriber, error_type, deliveries: [...]}]}"}
        """
        status = request.query_params.get("status") or None
        if status not in (None, "failed", "dead"):
            return JSONResponse({"error": "status: give failed or dead"}, status_code=400)
        groups = await run(views.problems, logs, status)
        return JSONResponse({"groups": [
            {"log": g.log.index, "subscriber": g.subscriber, "error_type": g.error_type,
             "deliveries": [dict(views.delivery_json(p.delivery), name=p.name) for p in g.problems]}
            for g in groups
        ]})

    async def api_session(request: Request) -> Response:
        """
        summary: The CSRF token to send as X-CSRF-Token with every POST, and whether writes are allowed
        responses:
          200: {description: "{csrf: token, read_only: bool}"}
        """
        return JSONResponse({"csrf": console.csrf, "read_only": config.read_only})

    async def api_selection(request: Request) -> tuple[Selection, Log] | Response:
        if not console.writes():
            return JSONResponse({"error": "this console is read-only"}, status_code=403)
        if not same(request.headers.get(CSRF_HEADER), console.csrf):
            return JSONResponse({"error": "send the token of GET /api/session as X-CSRF-Token"},
                                status_code=403)
        try:
            body = await request.json()
            selection = make_selection(int(body.get("log", 0)), str(body.get("kind", "")),
                                       body.get("message_id"), body.get("subscriber"), body.get("keys", []))
            return selection, console.log(selection.log)
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def api_preview(request: Request) -> Response:
        """
        summary: How many delivery rows a replay would change (nothing changes)
        requestBody:
          description: "{log, kind: delivery|message|selected|subscriber, message_id, subscriber, keys}"
        responses:
          200: {description: "{rows: n}"}
        """
        picked = await api_selection(request)
        if isinstance(picked, Response):
            return picked
        selection, log = picked
        return JSONResponse({"rows": await run(affected, log, selection), "selection": selection.as_json()})

    async def api_replay(request: Request) -> Response:
        """
        summary: Replay deliveries (as the replay command does); follow the job at /api/jobs/{id}
        requestBody: {description: "{log, kind, message_id, subscriber, keys, who}"}
        responses:
          202: {description: The job}
          403: {description: Read-only console or missing CSRF token}
        """
        picked = await api_selection(request)
        if isinstance(picked, Response):
            return picked
        selection, log = picked
        body = await request.json()
        rows = await run(affected, log, selection)
        job = await console.jobs.run(log, selection, _actor(request, str(body.get("who") or "")),
                                     rows, console.follow)
        return JSONResponse(job.as_json(), status_code=202)

    async def api_job(request: Request) -> Response:
        """
        summary: A replay job and the current status of its deliveries
        responses:
          200: {description: The job}
          404: {description: No such job}
        """
        job = job_of(request)
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        return JSONResponse(job.as_json())

    schemas = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "tidings console", "version": "1"}})

    async def openapi(request: Request) -> Response:
        return JSONResponse(schemas.get_schema(routes=request.app.routes))

    routes = [
        Route("/", messages),
        Route("/fragments/rows", rows_fragment),
        Route("/fragments/counts", counts_fragment),
        Route("/messages/{id}", message),
        Route("/fragments/messages/{id}", deliveries_fragment),
        Route("/threads/{id}", thread),
        Route("/problems", problems),
        Route("/replay/confirm", confirm, methods=["POST"]),
        Route("/replay", replay, methods=["POST"]),
        Route("/jobs/{id}", job_page),
        Route("/fragments/jobs/{id}", job_fragment),
        Route("/actions", actions),
        Route("/api/messages", api_messages),
        Route("/api/counts", api_counts),
        Route("/api/messages/{id}", api_message),
        Route("/api/threads/{id}", api_thread),
        Route("/api/problems", api_problems),
        Route("/api/session", api_session),
        Route("/api/replay/preview", api_preview, methods=["POST"]),
        Route("/api/replay", api_replay, methods=["POST"]),
        Route("/api/jobs/{id}", api_job),
        Route("/api/openapi.json", openapi, include_in_schema=False),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.console = console
    app.add_middleware(Guard, token=config.token, loopback=LOOPBACK)
    return app
