"""SnsSqsTransport against moto's server on loopback (real HTTP), on asyncio and trio."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import anyio
import anyio.to_thread
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream

from tests.transports.aws import (
    CREDENTIALS,
    MotoServer,
    drain,
    free_port,
    moto_endpoint,
    queue_counts,
    sns_client,
    sqs_client,
    unique_prefix,
)
from tidings.runtime.stores._base import StoredMessage
from tidings.runtime.transports import Handle, Incoming, RemoteSubscription, TransportError
from tidings.runtime.transports._sns_sqs import SnsSqsTransport

__all__ = ["moto_endpoint"]  # the fixture, imported for pytest

pytestmark = pytest.mark.anyio
WAIT = 30.0  # a generous bound on every wait: a hung test fails instead of hanging


def stored(name: str = "orderPlaced", n: int = 1, producer: str | None = "tests",
           causation: bool = False) -> StoredMessage:
    return StoredMessage(uuid4(), name, 2, json.dumps({"n": n, "text": "é ✓"}), datetime.now(UTC), uuid4(),
                         uuid4() if causation else None, producer)


def subscription(subscriber: str = "billing", names: tuple[str, ...] = ("orderPlaced",), *,
                 serial: bool = False, ack_wait: float = 30, max_in_flight: int = 10) -> RemoteSubscription:
    return RemoteSubscription(subscriber, names, serial, ack_wait, max_in_flight)


async def make(endpoint: str, prefix: str, **options: Any) -> SnsSqsTransport:
    transport = SnsSqsTransport(endpoint_url=endpoint, prefix=prefix, wait_time=1,
                                client_kwargs=CREDENTIALS, **options)
    await transport.open("shop")
    return transport


@asynccontextmanager
async def consuming(
    transport: SnsSqsTransport, sub: RemoteSubscription, handle: Handle,
) -> AsyncIterator[None]:
    async with anyio.create_task_group() as tg:
        tg.start_soon(transport.consume, sub, handle)
        yield
        tg.cancel_scope.cancel()


def collector() -> tuple[Handle, MemoryObjectReceiveStream[Incoming]]:
    send, receive = anyio.create_memory_object_stream[Incoming](100)
    return send.send, receive


async def until(check: Callable[[], bool]) -> None:
    """Wait until `check()` (run in a thread: it may call boto3) is true."""
    with anyio.fail_after(WAIT):
        while not await anyio.to_thread.run_sync(check):
            await anyio.sleep(0.05)


async def test_a_published_message_arrives_as_stored(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription()
    await transport.declare(sub)
    sent = stored(causation=True)
    await transport.publish(sent)
    handle, received = collector()
    async with transport, consuming(transport, sub, handle):
        with anyio.fail_after(WAIT):
            incoming = await received.receive()
        assert incoming.message == sent
        assert incoming.attempt == 1
        assert queue_counts(moto_endpoint, transport.queue_name("billing")) == (0, 1)
        await incoming.ack()
        assert queue_counts(moto_endpoint, transport.queue_name("billing")) == (0, 0)


async def test_concurrent_publishes_reach_the_queue_in_call_order(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    await transport.declare(subscription())
    sent = [stored(n=n) for n in range(35)]

    async def publish(message: StoredMessage, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        task_status.started()  # the caller goes on once this task reaches its first wait
        await transport.publish(message)

    async with anyio.create_task_group() as tg:
        for message in sent:  # all under way at once, called in this order (trio shuffles start_soon)
            await tg.start(publish, message)
    got = drain(moto_endpoint, transport.queue_name("billing"))
    assert [m["MessageAttributes"]["Nats-Msg-Id"]["StringValue"] for m in got] == [str(m.id) for m in sent]
    await transport.close()


async def test_a_message_sns_refuses_fails_alone(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    await transport.declare(subscription())
    big = StoredMessage(uuid4(), "orderPlaced", 1, json.dumps({"text": "x" * 300_000}), datetime.now(UTC),
                        uuid4(), None, None)
    small = [stored(n=n) for n in range(3)]
    outcomes: dict[int, BaseException | None] = {}

    async def publish(n: int, message: StoredMessage) -> None:
        try:
            await transport.publish(message)
            outcomes[n] = None
        except TransportError as exc:
            outcomes[n] = exc

    async with anyio.create_task_group() as tg:
        for n, message in enumerate([small[0], big, small[1], small[2]]):
            tg.start_soon(publish, n, message)
    assert outcomes[0] is None and outcomes[2] is None and outcomes[3] is None
    assert isinstance(outcomes[1], TransportError)
    got = drain(moto_endpoint, transport.queue_name("billing"))
    assert sorted(m["MessageAttributes"]["Nats-Msg-Id"]["StringValue"] for m in got) == sorted(
        str(m.id) for m in small)
    await transport.close()


async def test_names_and_attributes_on_the_broker(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, "my.prefix")
    sub = subscription("billing.invoices:Handler", ("orderPlaced", "orderShipped"), ack_wait=12.5)
    await transport.declare(sub)
    queue = transport.queue_name(sub.subscriber)
    assert transport.topic_name == "my_prefix-shop-" + transport.topic_name.rsplit("-", 1)[1]
    assert queue.startswith(transport.topic_name + "-billing_invoices_Handler-")
    assert transport.dead_letter_queue_name(sub.subscriber) == queue + "-dlq"
    sqs, sns = sqs_client(moto_endpoint), sns_client(moto_endpoint)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "13"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":" + queue + "-dlq")
    assert int(redrive["maxReceiveCount"]) == 100
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]
              if t["TopicArn"].endswith(":" + transport.topic_name)]
    assert len(topics) == 1
    [sent] = sns.list_subscriptions_by_topic(TopicArn=topics[0])["Subscriptions"]
    assert sent["Endpoint"] == attributes["QueueArn"]
    got = sns.get_subscription_attributes(SubscriptionArn=sent["SubscriptionArn"])["Attributes"]
    assert got["RawMessageDelivery"] == "true"
    assert json.loads(got["FilterPolicy"]) == {"Tidings-Name": ["orderPlaced", "orderShipped"]}

    # declaring again with other names and ack_wait updates the same queue and subscription
    await transport.declare(subscription("billing.invoices:Handler", ("refunded",), ack_wait=5))
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "5"
    [again] = sns.list_subscriptions_by_topic(TopicArn=topics[0])["Subscriptions"]
    assert again["SubscriptionArn"] == sent["SubscriptionArn"]
    got = sns.get_subscription_attributes(SubscriptionArn=again["SubscriptionArn"])["Attributes"]
    assert json.loads(got["FilterPolicy"]) == {"Tidings-Name": ["refunded"]}


async def test_the_filter_policy_lets_only_the_subscribed_names_in(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription(names=("orderPlaced", "orderShipped"))
    await transport.declare(sub)
    for name in ("refunded", "orderPlaced", "refunded", "orderShipped"):
        await transport.publish(stored(name))
    assert queue_counts(moto_endpoint, transport.queue_name("billing")) == (2, 0)
    handle, received = collector()
    async with consuming(transport, sub, handle):
        with anyio.fail_after(WAIT):
            got = [await received.receive(), await received.receive()]
        assert sorted(i.message.name for i in got) == ["orderPlaced", "orderShipped"]
        for incoming in got:
            await incoming.ack()
    await transport.close()


async def test_a_consumer_drops_names_it_no_longer_takes(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    await transport.declare(subscription(names=("orderPlaced", "refunded")))
    await transport.publish(stored("refunded"))
    await transport.publish(stored("orderPlaced"))
    handle, received = collector()
    async with consuming(transport, subscription(names=("orderPlaced",)), handle):
        with anyio.fail_after(WAIT):
            incoming = await received.receive()
        assert incoming.message.name == "orderPlaced"
        await incoming.ack()
        await until(lambda: queue_counts(moto_endpoint, transport.queue_name("billing")) == (0, 0))
    await transport.close()


async def test_each_subscriber_gets_every_message(moto_endpoint: str) -> None:
    prefix = unique_prefix()
    producer, billing, shipping = [await make(moto_endpoint, prefix) for _ in range(3)]
    await billing.declare(subscription("billing"))
    await shipping.declare(subscription("shipping"))
    sent = stored()
    await producer.publish(sent)
    handle_b, received_b = collector()
    handle_s, received_s = collector()
    async with consuming(billing, subscription("billing"), handle_b), \
            consuming(shipping, subscription("shipping"), handle_s):
        with anyio.fail_after(WAIT):
            got = [await received_b.receive(), await received_s.receive()]
        assert [i.message.id for i in got] == [sent.id, sent.id]
        for incoming in got:
            await incoming.ack()


async def test_consumers_under_one_name_share_its_messages(moto_endpoint: str) -> None:
    prefix = unique_prefix()
    one, two = await make(moto_endpoint, prefix), await make(moto_endpoint, prefix)
    sub = subscription(max_in_flight=1)
    await one.declare(sub)
    sent = [stored(n=n) for n in range(6)]
    for message in sent:
        await one.publish(message)
    seen: dict[str, list[Incoming]] = {"one": [], "two": []}
    both = anyio.Event()
    all_done = anyio.Event()

    def handler(me: str) -> Handle:
        async def handle(incoming: Incoming) -> None:
            seen[me].append(incoming)
            if seen["one"] and seen["two"]:
                both.set()
            await both.wait()  # the first message of each waits for the other consumer's first
            await incoming.ack()
            if len(seen["one"]) + len(seen["two"]) == len(sent):
                all_done.set()
        return handle

    async with consuming(one, sub, handler("one")), consuming(two, sub, handler("two")):
        with anyio.fail_after(WAIT):
            await all_done.wait()
    assert seen["one"] and seen["two"]
    ids = sorted(str(i.message.id) for i in seen["one"] + seen["two"])
    assert ids == sorted(str(m.id) for m in sent)
    await until(lambda: queue_counts(moto_endpoint, one.queue_name("billing")) == (0, 0))


async def test_retry_brings_it_back_with_the_next_attempt(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription()
    await transport.declare(sub)
    sent = stored()
    await transport.publish(sent)
    handle, received = collector()
    async with consuming(transport, sub, handle):
        with anyio.fail_after(WAIT):
            first = await received.receive()
            await first.progress()
            assert queue_counts(moto_endpoint, transport.queue_name("billing")) == (0, 1)
            await first.retry(1)
            second = await received.receive()
        assert (first.attempt, second.attempt) == (1, 2)
        assert second.message == sent
        await second.ack()
    await transport.close()


async def test_an_unsettled_message_comes_back_after_ack_wait(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription(ack_wait=1)
    await transport.declare(sub)
    sent = stored()
    await transport.publish(sent)
    handle, received = collector()
    async with consuming(transport, sub, handle):
        with anyio.fail_after(WAIT):
            first = await received.receive()  # and never settled
            second = await received.receive()
        assert (first.message.id, first.attempt) == (sent.id, 1)
        assert (second.message.id, second.attempt) == (sent.id, 2)
        await second.ack()
    await transport.close()


async def test_after_max_receive_count_sqs_moves_it_to_the_dead_letter_queue(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix(), max_receive_count=2)
    sub = subscription()
    await transport.declare(sub)
    sent = stored()
    await transport.publish(sent)
    attempts: list[int] = []

    async def handle(incoming: Incoming) -> None:
        attempts.append(incoming.attempt)
        await incoming.retry(0)

    dlq = transport.dead_letter_queue_name("billing")
    async with consuming(transport, sub, handle):
        await until(lambda: queue_counts(moto_endpoint, dlq) == (1, 0))
    assert attempts == [1, 2]
    [dead] = drain(moto_endpoint, dlq)
    assert json.loads(dead["Body"]) == json.loads(sent.payload)
    assert dead["MessageAttributes"]["Nats-Msg-Id"]["StringValue"] == str(sent.id)
    assert queue_counts(moto_endpoint, transport.queue_name("billing")) == (0, 0)
    await transport.close()


async def test_a_malformed_message_goes_to_the_dead_letter_queue(
    moto_endpoint: str, caplog: pytest.LogCaptureFixture,
) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription()
    queue_url = await transport.declare(sub)
    sqs = sqs_client(moto_endpoint)
    sqs.send_message(QueueUrl=queue_url, MessageBody="not ours", MessageAttributes={
        "Tidings-Name": {"DataType": "String", "StringValue": "orderPlaced"}})
    sent = stored()
    await transport.publish(sent)
    handle, received = collector()
    with caplog.at_level(logging.ERROR, logger="tidings.sns_sqs"):
        async with consuming(transport, sub, handle):
            with anyio.fail_after(WAIT):
                incoming = await received.receive()
            assert incoming.message == sent
            await incoming.ack()
            dlq = transport.dead_letter_queue_name("billing")
            await until(lambda: queue_counts(moto_endpoint, dlq) == (1, 0))
    [dead] = drain(moto_endpoint, dlq)
    assert dead["Body"] == "not ours"
    assert dead["MessageAttributes"]["Tidings-Name"]["StringValue"] == "orderPlaced"
    assert any("Nats-Msg-Id is missing" in r.getMessage() for r in caplog.records)
    assert received.statistics().current_buffer_used == 0
    await transport.close()


async def test_a_serial_subscriber_takes_one_at_a_time_in_order(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription(serial=True, max_in_flight=10)
    await transport.declare(sub)
    sent = [stored(n=n) for n in range(5)]
    for message in sent:
        await transport.publish(message)
    order: list[int] = []
    running = 0
    most = 0
    done = anyio.Event()

    async def handle(incoming: Incoming) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await anyio.sleep(0.05)  # room for a second delivery to overlap, if the transport allowed it
        order.append(json.loads(incoming.message.payload)["n"])
        running -= 1
        await incoming.ack()
        if len(order) == len(sent):
            done.set()

    async with consuming(transport, sub, handle):
        with anyio.fail_after(WAIT):
            await done.wait()
    assert order == [0, 1, 2, 3, 4]
    assert most == 1
    await transport.close()


async def test_no_more_than_max_in_flight_are_taken_from_the_queue(moto_endpoint: str) -> None:
    transport = await make(moto_endpoint, unique_prefix())
    sub = subscription(max_in_flight=3)
    await transport.declare(sub)
    for n in range(6):
        await transport.publish(stored(n=n))
    running: list[Incoming] = []
    release = anyio.Event()
    done: list[Incoming] = []

    async def handle(incoming: Incoming) -> None:
        running.append(incoming)
        await release.wait()
        await incoming.ack()
        done.append(incoming)

    queue = transport.queue_name("billing")
    async with consuming(transport, sub, handle):
        with anyio.fail_after(WAIT):
            while len(running) < 3:
                await anyio.sleep(0.01)
        await anyio.sleep(0.5)  # a consumer that took more would have done so by now
        assert len(running) == 3
        assert queue_counts(moto_endpoint, queue) == (3, 3)
        release.set()
        with anyio.fail_after(WAIT):
            while len(done) < 6:
                await anyio.sleep(0.01)
    assert sorted(json.loads(i.message.payload)["n"] for i in done) == [0, 1, 2, 3, 4, 5]
    assert queue_counts(moto_endpoint, queue) == (0, 0)
    await transport.close()


async def test_when_aws_is_unreachable_publish_raises_and_consume_waits_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("moto.server")
    port = free_port()
    server = MotoServer(port)
    transport = await make(server.url, unique_prefix())
    with pytest.raises(TransportError, match="SNS PublishBatch failed"):
        await transport.publish(stored())

    sub = subscription()
    handle, received = collector()
    with caplog.at_level(logging.WARNING, logger="tidings.sns_sqs"):
        async with consuming(transport, sub, handle):
            with anyio.fail_after(WAIT):
                while not any("trying again" in r.getMessage() for r in caplog.records):
                    await anyio.sleep(0.05)
            server.start()
            try:
                def subscribed() -> bool:
                    try:
                        return queue_counts(server.url, transport.queue_name("billing")) == (0, 0) and any(
                            s["Endpoint"].endswith(":" + transport.queue_name("billing"))
                            for s in sns_client(server.url).list_subscriptions()["Subscriptions"]
                        )
                    except Exception:
                        return False

                await until(subscribed)
                sent = stored()
                await transport.publish(sent)
                with anyio.fail_after(WAIT):
                    incoming = await received.receive()
                assert incoming.message == sent
                await incoming.ack()
            finally:
                server.stop()
    await transport.close()
