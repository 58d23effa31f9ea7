"""The fault-test proxy: bytes pass both ways, `cut()` takes the server away, `restore()` brings it back."""

from __future__ import annotations

import socket
import socketserver
import threading
import uuid
from collections.abc import Iterator

import anyio
import pytest

from tests.conftest import require_service
from tests.transports._proxy import TcpProxy

GUARD = 30.0  # seconds; a hang guard only, never an assertion


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        while data := sock.recv(65_536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A threaded TCP echo server on 127.0.0.1; echoes until the client half-closes."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def proxy(echo: tuple[str, int]) -> Iterator[TcpProxy]:
    with TcpProxy(*echo) as made:
        yield made


def _connect(proxy: TcpProxy) -> socket.socket:
    sock = socket.create_connection((proxy.host, proxy.port), timeout=GUARD)
    sock.settimeout(GUARD)
    return sock


def _round_trip(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    got = bytearray()
    while len(got) < len(data):
        chunk = sock.recv(65_536)
        if not chunk:
            break
        got += chunk
    return bytes(got)


def _gone(sock: socket.socket) -> bool:
    """True when the connection is dead: a write fails, or a read finds it reset or closed."""
    try:
        sock.sendall(b"ping")
        return sock.recv(16) == b""
    except TimeoutError:
        return False  # alive but silent: not what a cut looks like
    except OSError:
        return True


def test_bytes_flow_both_ways(proxy: TcpProxy) -> None:
    big = bytes(range(256)) * 8_192  # 2 MiB, more than any socket buffer: exercises backpressure
    with _connect(proxy) as sock:
        assert _round_trip(sock, b"hello") == b"hello"
        assert _round_trip(sock, big) == big
        assert proxy.connections == 1
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)  # a half-close passes through; the echo still answers
        rest = bytearray()
        while chunk := sock.recv(65_536):
            rest += chunk
        assert rest == b"last words"


def test_cut_breaks_open_connections_and_new_ones(proxy: TcpProxy) -> None:
    with _connect(proxy) as first, _connect(proxy) as second:
        assert _round_trip(first, b"a") == b"a"
        assert _round_trip(second, b"b") == b"b"
        proxy.cut()
        assert proxy.is_cut
        assert proxy.connections == 0
        assert _gone(first)
        assert _gone(second)
    for _ in range(3):
        try:
            sock = _connect(proxy)
        except OSError:
            continue  # refused outright: the server is gone too
        with sock:
            assert _gone(sock)
    assert proxy.connections == 0


def test_restore_lets_new_connections_through(proxy: TcpProxy) -> None:
    with _connect(proxy) as before:
        proxy.cut()
        proxy.restore()
        assert not proxy.is_cut
        assert _gone(before)  # a cut connection stays cut
    with _connect(proxy) as after:
        assert _round_trip(after, b"back") == b"back"


def test_close_is_idempotent_and_stops_serving(echo: tuple[str, int]) -> None:
    proxy = TcpProxy(*echo)
    with _connect(proxy) as sock:
        assert _round_trip(sock, b"x") == b"x"
        proxy.close()
        proxy.close()
        assert _gone(sock)
    with pytest.raises(OSError):
        socket.create_connection((proxy.host, proxy.port), timeout=GUARD).close()
    with pytest.raises(RuntimeError):
        proxy.cut()


@pytest.mark.anyio
async def test_event_loop_clients(proxy: TcpProxy) -> None:
    """The proxy's own thread serves an asyncio or trio client as it serves a blocking one."""
    with anyio.fail_after(GUARD):
        stream = await anyio.connect_tcp(proxy.host, proxy.port)
        async with stream:
            await stream.send(b"loop")
            assert await stream.receive() == b"loop"
            await anyio.to_thread.run_sync(proxy.cut)
            with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError, OSError)):
                await stream.send(b"more")
                await stream.receive()
        await anyio.to_thread.run_sync(proxy.restore)
        stream = await anyio.connect_tcp(proxy.host, proxy.port)
        async with stream:
            await stream.send(b"again")
            assert await stream.receive() == b"again"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # nats-py runs on asyncio only
@pytest.mark.anyio
async def test_nats_client_disconnects_on_cut_and_reconnects_on_restore(anyio_backend: str) -> None:
    require_service("NATS", "127.0.0.1", 4222)
    import nats

    disconnected = anyio.Event()
    reconnected = anyio.Event()

    async def on_disconnect() -> None:
        disconnected.set()

    async def on_reconnect() -> None:
        reconnected.set()

    async def on_error(exc: Exception) -> None:
        pass  # every refused reconnect attempt lands here while cut

    subject = f"tests.proxy.{uuid.uuid4().hex}"
    with TcpProxy("127.0.0.1", 4222) as proxy:
        nc = await nats.connect(
            f"nats://{proxy.host}:{proxy.port}", allow_reconnect=True, max_reconnect_attempts=-1,
            reconnect_time_wait=0.05, connect_timeout=5, disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect, error_cb=on_error,
        )
        try:
            sub = await nc.subscribe(subject)
            await nc.publish(subject, b"one")
            assert (await sub.next_msg(timeout=GUARD)).data == b"one"
            proxy.cut()
            with anyio.fail_after(GUARD):
                await disconnected.wait()
            assert not nc.is_connected
            assert not reconnected.is_set()
            proxy.restore()
            with anyio.fail_after(GUARD):
                await reconnected.wait()
            assert nc.is_connected
            await nc.publish(subject, b"two")  # the subscription was re-established on the new connection
            assert (await sub.next_msg(timeout=GUARD)).data == b"two"
        finally:
            await nc.close()
