"""A local AWS for the SNS/SQS transport tests: moto's server on 127.0.0.1, over real HTTP.

`moto_endpoint` (session-scoped) starts one `ThreadedMotoServer` on a free loopback port and
yields its URL; every test uses its own `prefix` (`unique_prefix()`), so tests never share a
topic or a queue. Moto keeps its state in this process, so a second server started on the same
port (`MotoServer.restart()` after `stop()`) serves the same topics and queues: what a test of
an outage needs.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
"""moto takes any credentials; these keep boto3 from looking for real ones."""

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # tests' own boto3 clients, too
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """moto's threaded server on 127.0.0.1:`port` (a free one by default); stop and restart it
    on the same port to simulate AWS going away and coming back."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server: Any = None

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        """Listen (returns once the socket is bound)."""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening (the state stays: it lives in this process)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def restart(self) -> None:
        """Listen again on the same port."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server on loopback, shared by the session's tests."""
    pytest.importorskip("moto.server", reason="install the test extra (moto[server]) to run AWS tests")
    server = MotoServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def unique_prefix() -> str:
    """A topic/queue name prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}"


def sqs_client(endpoint: str) -> Any:
    """A plain boto3 SQS client on `endpoint`, for looking at queues from the outside."""
    import boto3

    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def sns_client(endpoint: str) -> Any:
    """A plain boto3 SNS client on `endpoint`."""
    import boto3

    return boto3.client("sns", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def queue_counts(endpoint: str, queue_name: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue, as SQS reports them."""
    sqs = sqs_client(endpoint)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def drain(endpoint: str, queue_name: str) -> list[dict[str, Any]]:
    """Every message currently visible in a queue (received, with attributes, and deleted)."""
    sqs = sqs_client(endpoint)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found.extend(messages)
