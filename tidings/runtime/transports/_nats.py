"""`NatsTransport`: a catalog's distributed events on a NATS JetStream stream.

nats-py runs on asyncio only; on trio the client lives in an asyncio loop of its own, in a
thread, and every call crosses over to it (see `Bridge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import anyio
import sniffio

from tidings.runtime.stores._base import StoredMessage
from tidings.runtime.transports._base import (
    Handle,
    Incoming,
    MessageTooLarge,
    RemoteSubscription,
    Transport,
    TransportError,
    wire_name,
)
from tidings.runtime.transports._bridge import Bridge
from tidings.runtime.transports._consume import consume_bounded
from tidings.runtime.transports._wire import from_headers, size_bound, subject, to_headers

log = logging.getLogger("tidings.nats")
EXPECTED_STREAM = "Nats-Expected-Stream"
T = TypeVar("T")


class _NatsIncoming(Incoming):
    __slots__ = ("attempt", "message", "msg", "transport")

    def __init__(self, transport: NatsTransport, msg: Any) -> None:
        self.transport = transport
        self.msg = msg
        self.message = from_headers(msg.headers or {}, msg.data)
        self.attempt = int(msg.metadata.num_delivered)

    async def ack(self) -> None:
        await self.transport._call(self.msg.ack)

    async def retry(self, delay: float) -> None:
        await self.transport._call(self.msg.nak, delay)

    async def progress(self) -> None:
        await self.transport._call(self.msg.in_progress)


class NatsTransport(Transport):
    """Distributed events on NATS JetStream.

    One stream per catalog (`stream`, default `TIDINGS_<CATALOG>`) takes the subjects
    `tidings.<catalog>.>`; an event `name` is published on `tidings.<catalog>.<name>` with its
    message id as `Nats-Msg-Id`, so the server drops a re-sent copy within `duplicate_window`
    seconds. Each remote subscriber consumes through a durable pull consumer named after it
    (`wire_name(subscriber)`): processes subscribing under one name share its messages. A new
    consumer starts at the oldest message the stream keeps (`deliver_policy="all"`, messages
    are kept `max_age` seconds) or only at new ones (`"new"`).

    `servers` and `connect_options` go to `nats.connect`; the client reconnects forever, and a
    publish while disconnected fails at once (the outbox keeps the message and tries again).
    """

    kind = "nats"

    def __init__(
        self,
        servers: str | Sequence[str] = "nats://127.0.0.1:4222",
        *,
        stream: str | None = None,
        publish_timeout: float = 5.0,
        max_age: float = 7 * 86400.0,
        duplicate_window: float = 120.0,
        fetch_batch: int = 256,
        fetch_timeout: float = 1.0,
        deliver_policy: Literal["all", "new"] = "all",
        connect_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        self.stream = stream
        self.publish_timeout = publish_timeout
        self.max_age = max_age
        self.duplicate_window = duplicate_window
        self.fetch_batch = fetch_batch
        self.fetch_timeout = fetch_timeout
        self.deliver_policy = deliver_policy
        self.connect_options = dict(connect_options or {})
        self._bridge: Bridge | None = None
        self._backend: str | None = None
        self._nc: Any = None
        self._js: Any = None
        self._lock: asyncio.Lock | None = None
        self._retry_connect_at = 0.0
        self._last_error: BaseException | None = None
        self._pulls: dict[str, tuple[Any, Any]] = {}
        self._unacked: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._ack_prefix = ""
        self._sequence = 0
        self._stream_lost = False
        self._sweeper: asyncio.Task[None] | None = None
        self._max_payload: int | None = None

    def __repr__(self) -> str:
        return f"NatsTransport({', '.join(self.servers)!s}, stream={self.stream_name!r})"

    @property
    def stream_name(self) -> str:
        """The JetStream stream this transport publishes to and consumes from."""
        return self.stream or wire_name(f"TIDINGS_{self.catalog.upper()}")

    async def open(self, catalog: str) -> None:
        """Remember the catalog and try to connect (for up to a second; if the broker is away,
        `publish` and `consume` go on trying)."""
        await super().open(catalog)
        self._backend = sniffio.current_async_library()
        if self._backend != "asyncio" and self._bridge is None:
            self._bridge = Bridge()
        # Connected before the first publish, the relay's sends leave in emit order.
        with contextlib.suppress(TransportError):
            await self._call(self._connected, 1.0)

    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run the nats-py coroutine `fn(*args)` in the client's loop."""
        if self._bridge is None:
            if self._backend is None:
                await self.open(self.catalog)
                if self._bridge is not None:
                    return await self._bridge.run(fn, *args)
            return await fn(*args)
        return await self._bridge.run(fn, *args)

    # -- in the client's loop ------------------------------------------------------------------

    async def _connected(self, within: float | None = None) -> tuple[Any, Any]:
        nc = self._nc
        if nc is not None and not nc.is_closed:
            if not nc.is_connected:
                raise TransportError(f"NATS at {', '.join(self.servers)} is unreachable; reconnecting")
            return nc, self._js
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._nc is not None and not self._nc.is_closed:
                return await self._connected()
            if time.monotonic() < self._retry_connect_at:
                raise TransportError(f"cannot connect to NATS at {', '.join(self.servers)}: "
                                     f"{self._last_error!r}")
            from nats.aio.client import Client

            async def quiet(exc: Exception) -> None:
                log.debug("NATS: %r", exc)

            options: dict[str, Any] = {
                "allow_reconnect": True, "max_reconnect_attempts": -1, "reconnect_time_wait": 0.5,
                "connect_timeout": 2.0, "error_cb": quiet, **self.connect_options,
            }
            nc = Client()
            try:
                # nats-py retries a failed first connect forever too: bound it, the outbox waits.
                await asyncio.wait_for(nc.connect(self.servers, **options),
                                       within or options["connect_timeout"] + 1)
                js = nc.jetstream()
                await self._ensure_stream(js)
                self._ack_prefix = nc.new_inbox() + "."
                await nc.subscribe(self._ack_prefix + "*", cb=self._on_ack)
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await asyncio.shield(nc.close())  # cancelled mid-connect: no client left behind
                if not isinstance(exc, Exception):
                    raise
                self._last_error = exc
                self._retry_connect_at = time.monotonic() + 0.5
                raise TransportError(f"cannot connect to NATS at {', '.join(self.servers)}: {exc!r}") from exc
            self._nc, self._js = nc, js
            self._max_payload = nc.max_payload
            self._pulls.clear()
            return nc, js

    async def _ensure_stream(self, js: Any) -> None:
        from nats.js.api import RetentionPolicy, StorageType, StreamConfig
        from nats.js.errors import NotFoundError

        subjects = [subject(self.catalog, ">")]
        try:
            info = await js.stream_info(self.stream_name)
        except NotFoundError:
            await js.add_stream(StreamConfig(
                name=self.stream_name, subjects=subjects, retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE, max_age=self.max_age, duplicate_window=self.duplicate_window,
            ))
            return
        if not set(subjects) <= set(info.config.subjects or ()):
            info.config.subjects = [*(info.config.subjects or ()), *subjects]
            await js.update_stream(info.config)

    def _check_size(self, name: str, data: bytes, headers: dict[str, str]) -> None:
        limit = self._max_payload
        if limit is None:
            return
        # The server counts the header block (NATS/1.0 line, `key: value` lines) with the data.
        size = len(data) + 12 + sum(len(k) + len(v) + 4 for k, v in headers.items())
        if EXPECTED_STREAM not in headers:
            size += len(EXPECTED_STREAM) + len(self.stream_name) + 4
        if size > limit:
            raise MessageTooLarge(
                f"{name!r} message is {size} bytes with its headers; the NATS server at"
                f" {', '.join(self.servers)} takes at most {limit} bytes (its max_payload):"
                " send less (or a reference to the data), or raise max_payload on the server",
                size=size, limit=limit,
            )

    async def _publish(self, data: bytes, headers: dict[str, str], name: str) -> None:
        nc, js = await self._connected()
        if self._stream_lost:  # deleted under us: create it again (what the outbox waited for)
            await self._ensure_stream(js)
            self._stream_lost = False
        headers[EXPECTED_STREAM] = self.stream_name
        self._max_payload = nc.max_payload
        self._check_size(name, data, headers)
        # A JetStream publish is a NATS publish whose reply subject gets the ack: ours share one
        # subscription and count their tokens (nats-py's publish_async draws random bytes and a
        # semaphore per message). The message is on the wire before this first suspends, so
        # concurrent relays send in emit order.
        self._sequence += 1
        token = str(self._sequence)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[token] = future
        self._unacked.append((time.monotonic() + self.publish_timeout, future))
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        try:
            try:
                await nc.publish(subject(self.catalog, name), data, reply=self._ack_prefix + token,
                                 headers=headers)
            except BaseException as exc:
                future.cancel()  # never sent: no ack to wait for, and no error left unretrieved
                from nats.errors import MaxPayloadError

                if isinstance(exc, MaxPayloadError):
                    self._check_size(name, data, headers)
                    raise MessageTooLarge(
                        f"{name!r} message is over the NATS server's max_payload"
                        f" ({nc.max_payload} bytes)", size=len(data), limit=nc.max_payload,
                    ) from exc
                raise
            await future
        finally:
            self._acks.pop(token, None)

    async def _on_ack(self, msg: Any) -> None:
        future = self._acks.pop(msg.subject[len(self._ack_prefix):], None)
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get("Status") == "503":
            self._stream_lost = True
            future.set_exception(TransportError(f"no JetStream stream takes {self.catalog!r} messages"))
        elif b'"error"' in msg.data:
            future.set_exception(TransportError(f"JetStream refused the message: {msg.data.decode()}"))
        else:
            future.set_result(None)

    async def _sweep(self) -> None:
        # One timer for every publish awaiting its ack (nats-py never fails those futures when
        # the connection drops): the acks come in order, so the oldest expires first.
        unacked = self._unacked
        while unacked:
            deadline, future = unacked[0]
            if future.done():
                unacked.popleft()
                continue
            wait = deadline - time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, 0.25))
                continue
            unacked.popleft()
            future.set_exception(TransportError(f"no ack from JetStream within {self.publish_timeout}s"))

    async def _pull(self, subscription: RemoteSubscription) -> Any:
        nc, js = await self._connected()
        cached = self._pulls.get(subscription.subscriber)
        if cached is not None and cached[0] is nc:
            return cached[1]
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        names = subscription.names
        config = ConsumerConfig(
            durable_name=wire_name(subscription.subscriber),
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=subscription.ack_wait,
            max_deliver=-1,
            max_ack_pending=1 if subscription.serial else max(1, subscription.max_in_flight),
            deliver_policy=DeliverPolicy.ALL if self.deliver_policy == "all" else DeliverPolicy.NEW,
        )
        version = nc.connected_server_version
        if len(names) == 1:
            filter_subject = subject(self.catalog, names[0])
        elif (version.major, version.minor) >= (2, 10):
            filter_subject = None
            config.filter_subjects = [subject(self.catalog, n) for n in names]
        else:  # one filter only before NATS 2.10: take the catalog, skip the rest (acked)
            filter_subject = subject(self.catalog, ">")
        config.filter_subject = filter_subject
        psub = await js.pull_subscribe(
            filter_subject or subject(self.catalog, ">"), durable=config.durable_name,
            stream=self.stream_name, config=config,
        )
        self._pulls[subscription.subscriber] = (nc, psub)
        return psub

    async def _fetch(self, subscription: RemoteSubscription, batch: int) -> list[Any]:
        psub = await self._pull(subscription)
        try:
            return list(await psub.fetch(batch, timeout=self.fetch_timeout))
        except TimeoutError:  # nothing came (nats.errors.TimeoutError is one too)
            return []

    async def _close(self) -> None:
        nc, self._nc = self._nc, None
        self._pulls.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if nc is not None and not nc.is_closed:
            if nc.is_connected:
                with contextlib.suppress(Exception):
                    await nc.flush(2.0)  # the last acks and naks are still in the write buffer
            await nc.close()

    # -- the Transport API ---------------------------------------------------------------------

    async def publish(self, message: StoredMessage) -> None:
        """Publish on `tidings.<catalog>.<name>` and wait for JetStream's ack."""
        await self._call(self._publish, message.payload.encode(), to_headers(message), message.name)

    def check_size(self, message: StoredMessage) -> None:
        """Raise `MessageTooLarge` when `message` with its headers is over the server's
        `max_payload` (learned on connecting; unknown, and not checked, before that)."""
        limit = self._max_payload
        # The stream name travels in a header: the given one, or a derived one of 64 at most.
        if limit is None or size_bound(message) + len(self.stream or "") + 64 < limit:
            return  # surely small enough, without encoding it
        self._check_size(message.name, message.payload.encode(), to_headers(message))

    async def declare(self, subscription: RemoteSubscription) -> None:
        """Create the subscriber's durable pull consumer (and the stream) now."""
        await self._call(self._pull, subscription)

    async def consume(self, subscription: RemoteSubscription, handle: Handle) -> None:
        """Fetch from the subscriber's durable pull consumer and hand each message to `handle`
        (one at a time when serial, else up to `max_in_flight` at once); runs until cancelled."""
        names = set(subscription.names)

        async def fetch(count: int) -> list[Any]:
            try:
                return await self._call(self._fetch, subscription, count)
            except Exception:
                self._pulls.pop(subscription.subscriber, None)
                raise

        async def take(msg: Any) -> None:
            try:
                incoming = _NatsIncoming(self, msg)
            except ValueError as exc:
                log.error("NATS consumer %r: %s on %s; terminated", subscription.subscriber, exc,
                          msg.subject)
                await self._call(msg.term)
                return
            if incoming.message.name not in names:
                await incoming.ack()
                return
            await handle(incoming)

        async def unsubscribe() -> None:
            # Before the deliveries under way end: a message they hand back must not go to a
            # pull request of ours (it would wait there until ack_wait).
            with anyio.move_on_after(2.0):
                await self._call(self._unsubscribe, subscription.subscriber)

        await consume_bounded(
            f"NATS consumer {subscription.subscriber!r}",
            1 if subscription.serial else subscription.max_in_flight, self.fetch_batch, fetch,
            take, max_pause=2.0, log=log, stopping=unsubscribe)

    async def _unsubscribe(self, subscriber: str) -> None:
        cached = self._pulls.pop(subscriber, None)
        if cached is not None and not cached[0].is_closed:
            with contextlib.suppress(Exception):
                await cached[1].unsubscribe()

    async def close(self) -> None:
        """Close the connection (and the trio bridge's thread)."""
        try:
            if self._nc is not None:
                with anyio.CancelScope(shield=True):
                    await self._call(self._close)
        finally:
            bridge, self._bridge = self._bridge, None
            self._backend = None
            if bridge is not None:
                bridge.stop()
