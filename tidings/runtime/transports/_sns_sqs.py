"""`SnsSqsTransport`: a catalog's distributed events on AWS SNS (one topic) and SQS (one queue
per remote subscriber, with a dead-letter queue).

boto3 is blocking, so every call runs in a worker thread (`anyio.to_thread`): the transport
works on asyncio and trio alike. boto3 is imported on first use (install `tidings[aws]`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import anyio
import anyio.to_thread

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
from tidings.runtime.transports._consume import consume_bounded
from tidings.runtime.transports._wire import NAME, from_headers, size_bound, to_headers

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger("tidings.sns_sqs")
T = TypeVar("T")

MAX_VISIBILITY = 43200
"""SQS's longest visibility timeout (12 hours): the cap of `retry(delay)` and `ack_wait`."""
MAX_FILTER_VALUES = 150
"""SNS's limit on the values of one filter policy: a subscriber taking more names gets every
event of the catalog and drops the others itself."""
MAX_BATCH_BYTES = 262144
"""SNS's cap on one PublishBatch request (bodies and attributes)."""
MAX_MESSAGE_BYTES = 262144
"""SNS's cap on one message, its attributes (names, types and values) included: 256 KiB."""
RETENTION = 1209600
"""Both queues keep a message 14 days (SQS's maximum), so a subscriber can be down that long."""


def _attributes(message: StoredMessage) -> dict[str, Any]:
    """`message`'s metadata as SNS String message attributes (SNS takes no empty value)."""
    return {key: {"DataType": "String", "StringValue": value}
            for key, value in to_headers(message).items() if value}


def _size(body: bytes, attributes: dict[str, Any]) -> int:
    """What SNS counts against its size caps: the body and every attribute's name, type, value."""
    return len(body) + sum(len(key) + len("String") + len(value["StringValue"].encode())
                           for key, value in attributes.items())


class _Pending:
    """A message waiting in the outbox of `publish`, and what became of it."""

    __slots__ = ("attributes", "done", "error", "message", "size", "taken", "wake")

    def __init__(self, message: StoredMessage) -> None:
        self.message = message
        self.attributes = _attributes(message)
        self.size = _size(message.payload.encode(), self.attributes)
        self.taken = False
        self.done = False
        self.error: TransportError | None = None
        self.wake = anyio.Event()

    def finish(self, error: TransportError | None) -> None:
        self.done = True
        self.error = error
        self.wake.set()


class _SqsIncoming(Incoming):
    """A message received from a subscriber's queue; settled through its receipt handle."""

    __slots__ = ("ack_wait", "attempt", "message", "queue_url", "receipt", "transport")

    def __init__(
        self, transport: SnsSqsTransport, queue_url: str, receipt: str, message: StoredMessage,
        attempt: int, ack_wait: int,
    ) -> None:
        self.transport = transport
        self.queue_url = queue_url
        self.receipt = receipt
        self.message = message
        self.attempt = attempt
        self.ack_wait = ack_wait

    async def ack(self) -> None:
        """DeleteMessage: gone from the subscriber's queue (TransportError when SQS refused)."""
        await self.transport._call(
            "DeleteMessage", lambda: self.transport._sqs().delete_message(
                QueueUrl=self.queue_url, ReceiptHandle=self.receipt))

    async def retry(self, delay: float) -> None:
        """ChangeMessageVisibility to `delay` seconds (rounded up, at most 12 hours): SQS
        delivers it again then, with the next attempt number."""
        await self._visible_in(_seconds(delay))

    async def progress(self) -> None:
        """ChangeMessageVisibility to `ack_wait` from now."""
        await self._visible_in(self.ack_wait)

    async def _visible_in(self, seconds: int) -> None:
        await self.transport._call(
            "ChangeMessageVisibility", lambda: self.transport._sqs().change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=self.receipt, VisibilityTimeout=seconds))


def _same(key: str, have: str | None, want: str) -> bool:
    """Whether a subscription attribute already has the wanted value (policies compared as JSON)."""
    if key != "FilterPolicy":
        return have == want
    try:
        return bool(json.loads(have or "{}") == json.loads(want))
    except ValueError:
        return False


def _seconds(value: float) -> int:
    """A duration as SQS takes it: whole seconds, rounded up, within 0..12 hours."""
    return min(MAX_VISIBILITY, max(0, math.ceil(value)))


class SnsSqsTransport(Transport):
    """Distributed events on AWS SNS + SQS.

    Publishing sends each message to the catalog's standard SNS topic `<prefix>-<catalog>`: the
    payload JSON as the body and the wire headers (`to_headers`) as String message attributes;
    concurrent calls go out in call order, batched (`PublishBatch`). Each remote subscriber
    consumes from its own SQS queue `<prefix>-<catalog>-<subscriber>`, subscribed to the topic
    with raw message delivery and a filter policy on `Tidings-Name` (only its events enter the
    queue), with a redrive policy to `<queue>-dlq` after `max_receive_count` receives. Processes
    consuming under one subscriber name share its queue. `declare(subscription)` (which
    `consume` calls) creates or updates all of it.

    `endpoint_url`, `region` and `client_kwargs` (credentials, a `botocore.config.Config`
    merged over the transport's, ...) go to `boto3.session.Session(profile_name=profile)
    .client(...)`; `wait_time` is the long poll (0..20 seconds); `reconnect_max_delay` caps the
    pause between attempts while AWS is unreachable; `max_threads` caps concurrent boto3 calls
    (each consumer's long poll has a thread of its own). Standard topics keep no dedup: a
    message published twice can arrive twice, and the consuming bus drops the copy by id.
    """

    kind: ClassVar[str] = "sns-sqs"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        prefix: str = "tidings",
        wait_time: int = 20,
        max_receive_count: int = 100,
        reconnect_max_delay: float = 10.0,
        max_threads: int = 16,
        profile: str | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if not 0 <= wait_time <= 20:
            raise ValueError(f"wait_time must be 0..20 seconds (SQS's long poll), not {wait_time}")
        if not 1 <= max_receive_count <= 1000:
            raise ValueError(f"max_receive_count must be 1..1000 (SQS's range), not {max_receive_count}")
        self.endpoint_url = endpoint_url
        self.region = region
        self.prefix = prefix
        self.wait_time = wait_time
        self.max_receive_count = max_receive_count
        self.reconnect_max_delay = reconnect_max_delay
        self.max_threads = max_threads
        self.profile = profile
        self.client_kwargs = dict(client_kwargs or {})
        self._clients_lock = threading.Lock()
        self._clients: tuple[SNSClient, SQSClient] | None = None
        self._topic_arn: str | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._outbox: deque[_Pending] = deque()
        self._leading = False

    def __repr__(self) -> str:
        where = self.endpoint_url or self.region
        return f"SnsSqsTransport({where}, topic={self.topic_name if self.catalog else None!r})"

    # -- names ---------------------------------------------------------------------------------

    @property
    def topic_name(self) -> str:
        """The catalog's SNS topic: `<prefix>-<catalog>`, made broker-safe by `wire_name`."""
        if not self.catalog:
            raise RuntimeError("SnsSqsTransport: call `await transport.open(catalog)` first")
        return wire_name(f"{self.prefix}-{self.catalog}", 256)

    def queue_name(self, subscriber: str) -> str:
        """The SQS queue of `subscriber`: `<prefix>-<catalog>-<subscriber>` made broker-safe
        (`wire_name`, at most 76 characters so that its dead-letter queue fits SQS's 80)."""
        return wire_name(f"{self.topic_name}-{subscriber}", 76)

    def dead_letter_queue_name(self, subscriber: str) -> str:
        """The dead-letter queue of `subscriber`'s queue: `<queue>-dlq`."""
        return f"{self.queue_name(subscriber)}-dlq"

    # -- boto3, in worker threads --------------------------------------------------------------

    def _make_clients(self) -> tuple[SNSClient, SQSClient]:
        with self._clients_lock:
            if self._clients is None:
                import boto3.session
                from botocore.config import Config

                options = dict(self.client_kwargs)
                config = Config(
                    connect_timeout=5, read_timeout=self.wait_time + 15,
                    retries={"mode": "standard", "max_attempts": 3},
                    max_pool_connections=max(10, self.max_threads + 4),
                )
                if options.get("config") is not None:
                    config = config.merge(options["config"])
                options.update(config=config, region_name=options.get("region_name", self.region),
                               endpoint_url=options.get("endpoint_url", self.endpoint_url))
                session = boto3.session.Session(profile_name=self.profile)
                self._clients = (session.client("sns", **options), session.client("sqs", **options))
            return self._clients

    def _sns(self) -> SNSClient:
        return (self._clients or self._make_clients())[0]

    def _sqs(self) -> SQSClient:
        return (self._clients or self._make_clients())[1]

    async def _call(
        self, operation: str, fn: Callable[[], T], limiter: anyio.CapacityLimiter | None = None,
    ) -> T:
        """`fn()` in a worker thread; any error it raises becomes a TransportError."""
        if limiter is None:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(self.max_threads)
            limiter = self._limiter
        try:
            return await anyio.to_thread.run_sync(fn, limiter=limiter)
        except Exception as exc:
            raise TransportError(f"{operation} failed: {exc}") from exc

    # -- publishing ----------------------------------------------------------------------------

    def _topic_sync(self) -> str:
        arn = self._topic_arn
        if arn is None:
            arn = self._topic_arn = self._sns().create_topic(Name=self.topic_name)["TopicArn"]
        return arn

    def _publish_batch_sync(self, batch: Sequence[_Pending]) -> dict[str, str]:
        """PublishBatch; the error of each entry SNS did not take, by entry id."""
        from botocore.exceptions import ClientError

        entries: list[Any] = [
            {"Id": str(i), "Message": item.message.payload, "MessageAttributes": item.attributes}
            for i, item in enumerate(batch)
        ]
        for again in (True, False):
            arn = self._topic_sync()
            try:
                reply = self._sns().publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
                break
            except ClientError as exc:
                self._topic_arn = None
                if not again or exc.response.get("Error", {}).get("Code") != "NotFound":
                    raise
            except Exception:
                self._topic_arn = None
                raise
        errors = {entry["Id"]: "SNS did not say it took it" for entry in entries}
        for done in reply.get("Successful", []):
            errors.pop(done.get("Id", ""), None)
        for failed in reply.get("Failed", []):
            errors[failed["Id"]] = f"{failed.get('Code')}: {failed.get('Message', '')}"
        return errors

    def _take(self) -> list[_Pending]:
        """The next batch from the front of the outbox: at most 10 messages and 256 KiB."""
        batch: list[_Pending] = []
        size = 0
        while self._outbox and len(batch) < 10:
            item = self._outbox[0]
            if batch and size + item.size > MAX_BATCH_BYTES:
                break
            self._outbox.popleft()
            item.taken = True
            batch.append(item)
            size += item.size
        return batch

    async def _lead(self, me: _Pending) -> None:
        """Publish the outbox, batch after batch, until `me` is published; then hand over."""
        self._leading = True
        try:
            while not me.done:
                batch = self._take()
                if not batch:  # cannot happen: `me` is queued or in a batch that finished it
                    break
                try:
                    errors = await self._call("SNS PublishBatch", partial(self._publish_batch_sync, batch))
                except TransportError as exc:
                    for item in batch:
                        item.finish(exc)
                except BaseException:
                    for item in batch:
                        item.finish(TransportError("SNS PublishBatch cancelled: the message may or may"
                                                   " not have been published"))
                    raise
                else:
                    for i, item in enumerate(batch):
                        error = errors.get(str(i))
                        item.finish(None if error is None else TransportError(f"SNS PublishBatch: {error}"))
        finally:
            self._leading = False
            if self._outbox:
                self._outbox[0].wake.set()

    def check_size(self, message: StoredMessage) -> None:
        """Raise `MessageTooLarge` when `message` with its attributes is over SNS's 256 KiB
        (`MAX_MESSAGE_BYTES`); SNS would refuse it on every try."""
        if size_bound(message) < MAX_MESSAGE_BYTES:
            return  # surely small enough, without encoding it
        size = _size(message.payload.encode(), _attributes(message))
        if size > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"{message.name!r} message is {size} bytes with its attributes; SNS takes at most"
                f" {MAX_MESSAGE_BYTES} bytes (256 KiB) a message, attributes included: send less"
                " (or a reference to the data)", size=size, limit=MAX_MESSAGE_BYTES,
            )

    async def publish(self, message: StoredMessage) -> None:
        """Publish to the catalog's topic (created on first use, and again if deleted); returns
        once SNS accepted it, else raises TransportError (`MessageTooLarge`, before sending, for
        a message over SNS's size cap). Concurrent calls are sent in call order, up to 10 at a
        time (`PublishBatch`, one batch in flight): the broker gets them in the order the outbox
        relay sent them."""
        self.check_size(message)
        item = _Pending(message)
        self._outbox.append(item)
        try:
            while not item.done:
                if not self._leading:
                    await self._lead(item)
                else:
                    await item.wake.wait()
                    item.wake = anyio.Event()
        except BaseException:
            if not item.taken:
                self._outbox.remove(item)
                if not self._leading and self._outbox:
                    self._outbox[0].wake.set()  # it may have been woken to lead: pass that on
            raise
        if item.error is not None:
            raise item.error

    # -- consuming -----------------------------------------------------------------------------

    def _ensure_queue(self, name: str, attributes: dict[QueueAttributeNameType, str]) -> tuple[str, str]:
        sqs = self._sqs()
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        else:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def _declare_sync(self, subscription: RemoteSubscription) -> str:
        sns = self._sns()
        topic_arn = self._topic_sync()
        _, dlq_arn = self._ensure_queue(
            self.dead_letter_queue_name(subscription.subscriber),
            {"MessageRetentionPeriod": str(RETENTION)},
        )
        queue_arn = dlq_arn.rsplit(":", 1)[0] + ":" + self.queue_name(subscription.subscriber)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TidingsTopicSends",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }],
        }
        queue_url, queue_arn = self._ensure_queue(self.queue_name(subscription.subscriber), {
            "VisibilityTimeout": str(_seconds(subscription.ack_wait)),
            "MessageRetentionPeriod": str(RETENTION),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.max_receive_count)}),
            "Policy": json.dumps(policy),
        })
        names = sorted(set(subscription.names))
        wanted = {"RawMessageDelivery": "true"}
        if len(names) <= MAX_FILTER_VALUES:
            wanted["FilterPolicy"] = json.dumps({NAME: names})
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for existing in page.get("Subscriptions", []):
                if existing.get("Protocol") == "sqs" and existing.get("Endpoint") == queue_arn:
                    arn = existing["SubscriptionArn"]
                    have = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
                    if "FilterPolicy" not in wanted and have.get("FilterPolicy"):
                        wanted["FilterPolicy"] = "{}"  # removes it
                    for key, value in wanted.items():
                        if not _same(key, have.get(key), value):
                            sns.set_subscription_attributes(
                                SubscriptionArn=arn, AttributeName=key, AttributeValue=value)
                    return queue_url
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=wanted,
                      ReturnSubscriptionArn=True)
        return queue_url

    async def declare(self, subscription: RemoteSubscription) -> str:
        """Create or update the topic, the subscriber's queue and dead-letter queue, the queue's
        policy (the topic may send to it) and its topic subscription (raw delivery, filter
        policy on the subscription's names); returns the queue URL. SNS delivers only to the
        queues that exist when a message is published: declare (or start consuming) before
        the first publish that subscriber must get."""
        if not subscription.names:
            raise ValueError(f"remote subscriber {subscription.subscriber!r} takes no event names")
        return await self._call("declaring the SQS queue", partial(self._declare_sync, subscription))

    def _receive_sync(self, queue_url: str, count: int, abandoned: threading.Event) -> list[MessageTypeDef]:
        sqs = self._sqs()
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=self.wait_time,
            MessageSystemAttributeNames=["ApproximateReceiveCount"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages and abandoned.is_set():  # the consumer stopped during the poll: give them back
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages)
            ])
            return []
        return messages

    async def _receive(
        self, queue_url: str, count: int, limiter: anyio.CapacityLimiter,
    ) -> list[MessageTypeDef]:
        abandoned = threading.Event()
        try:
            return await anyio.to_thread.run_sync(
                self._receive_sync, queue_url, count, abandoned, abandon_on_cancel=True, limiter=limiter)
        except anyio.get_cancelled_exc_class():
            abandoned.set()
            raise
        except Exception as exc:
            raise TransportError(f"SQS ReceiveMessage failed: {exc}") from exc

    def _dead_letter_sync(self, subscriber: str, queue_url: str, raw: MessageTypeDef) -> None:
        sqs = self._sqs()
        dlq_url = sqs.get_queue_url(QueueName=self.dead_letter_queue_name(subscriber))["QueueUrl"]
        attributes: Any = raw.get("MessageAttributes", {})
        sqs.send_message(QueueUrl=dlq_url, MessageBody=raw.get("Body") or "(empty)",
                         MessageAttributes=attributes)
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=raw["ReceiptHandle"])

    async def _deliver(
        self, queue_url: str, raw: MessageTypeDef, subscription: RemoteSubscription, handle: Handle,
    ) -> None:
        headers = {key: value.get("StringValue", "")
                   for key, value in raw.get("MessageAttributes", {}).items()}
        try:
            message = from_headers(headers, raw.get("Body", ""))
        except ValueError as exc:
            log.error("SQS consumer %r: %s (SQS message %s); moved to its dead-letter queue",
                      subscription.subscriber, exc, raw.get("MessageId"))
            await self._call("moving a malformed message to the dead-letter queue", partial(
                self._dead_letter_sync, subscription.subscriber, queue_url, raw))
            return
        if message.name not in subscription.names:  # the filter policy was broader when it came
            await self._call("DeleteMessage", lambda: self._sqs().delete_message(
                QueueUrl=queue_url, ReceiptHandle=raw["ReceiptHandle"]))
            return
        attempt = int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        await handle(_SqsIncoming(self, queue_url, raw["ReceiptHandle"], message, attempt,
                                  _seconds(subscription.ack_wait)))

    async def consume(self, subscription: RemoteSubscription, handle: Handle) -> None:
        """Declare the subscriber's queue, then long-poll it and hand each message to `handle`:
        at most `max_in_flight` unsettled at once, one at a time in queue order when `serial`
        (it never receives more than it can start, so no message waits out its visibility
        timeout in a buffer). A malformed message goes to the dead-letter queue (logged). When
        AWS is unreachable it logs a warning and tries again with a growing pause (up to
        `reconnect_max_delay`); returns only when cancelled."""
        if not subscription.names:
            raise ValueError(f"remote subscriber {subscription.subscriber!r} takes no event names")
        poller = anyio.CapacityLimiter(1)  # the long poll does not hold a token of the shared limiter
        queue_url: str | None = None

        async def fetch(count: int) -> list[tuple[str, MessageTypeDef]]:
            nonlocal queue_url
            try:
                if queue_url is None:
                    queue_url = await self.declare(subscription)
                url = queue_url
                return [(url, raw) for raw in await self._receive(url, count, poller)]
            except TransportError:
                queue_url = None
                raise

        async def take(item: tuple[str, MessageTypeDef]) -> None:
            await self._deliver(item[0], item[1], subscription, handle)

        await consume_bounded(
            f"SQS consumer {subscription.subscriber!r}",
            1 if subscription.serial else subscription.max_in_flight, 10, fetch, take,
            max_pause=self.reconnect_max_delay, log=log)

    async def close(self) -> None:
        """Close the boto3 clients' connection pools (idempotent)."""
        with self._clients_lock:
            clients, self._clients = self._clients, None
        self._topic_arn = None
        if clients is not None:
            for client in clients:
                client.close()
