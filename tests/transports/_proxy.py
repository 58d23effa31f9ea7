"""A TCP proxy for fault tests: put it between a client and a broker, then `cut()` the line.

It runs its own selector loop in a daemon thread, so it serves asyncio, trio and plain-thread
clients alike. `cut()` resets every open connection (the client sees the server as gone) and
resets each new one as soon as it is accepted, until `restore()`. Both return once the proxy
thread has done it.

    with TcpProxy("127.0.0.1", 4222) as proxy:
        client = connect(f"nats://127.0.0.1:{proxy.port}")
        proxy.cut()      # the broker is gone
        proxy.restore()  # it is back
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from types import TracebackType
from typing import Self

_CHUNK = 65_536
_CONNECT_TIMEOUT = 5.0


class _Link:
    """One proxied connection: the accepted client socket, its upstream socket, and the bytes
    each side has yet to be sent."""

    __slots__ = ("client", "done_reading", "pending", "upstream")

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.pending = {client: bytearray(), upstream: bytearray()}
        self.done_reading: set[socket.socket] = set()

    def peer(self, sock: socket.socket) -> socket.socket:
        return self.upstream if sock is self.client else self.client

    def finished(self) -> bool:
        pending = self.pending
        return len(self.done_reading) == 2 and not pending[self.client] and not pending[self.upstream]


def _reset(sock: socket.socket) -> None:
    """Close `sock` with a TCP reset (SO_LINGER 0), so the other end fails at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class TcpProxy:
    """Forwards every connection made to 127.0.0.1:`port` to `target_host`:`target_port`.

    Starts serving on construction (a free port, chosen by the OS); `close()` (or leaving the
    `with` block) stops it and closes every connection. Not a test double: bytes pass unchanged
    both ways, half-closes included.
    """

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        """The port the proxy listens on (127.0.0.1)."""
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._links: set[_Link] = set()
        self._cut = False
        self._lock = threading.Lock()
        self._commands: list[tuple[str, threading.Event]] = []
        self._stopped = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"TcpProxy:{self.port}", daemon=True)
        self._thread.start()

    @property
    def is_cut(self) -> bool:
        """True between `cut()` and `restore()`."""
        return self._cut

    @property
    def connections(self) -> int:
        """How many proxied connections are open right now."""
        return len(self._links)

    def cut(self) -> None:
        """Reset every open connection and every new one until `restore()`; returns once done."""
        self._command("cut")

    def restore(self) -> None:
        """Let new connections through again (those cut stay closed); returns once done."""
        self._command("restore")

    def close(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        if self._thread.is_alive():
            self._command("close")
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _command(self, name: str) -> None:
        done = threading.Event()
        with self._lock:
            if self._stopped:
                if name == "close":
                    return
                raise RuntimeError(f"the proxy is closed; cannot {name}") from self._error
            self._commands.append((name, done))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        done.wait()
        if self._error is not None:
            raise RuntimeError(f"the proxy thread failed ({self._error!r})") from self._error

    # --- everything below runs on the proxy thread ---

    def _run(self) -> None:
        try:
            while True:
                for key, mask in self._selector.select():
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        if self._handle_commands():
                            return
                    else:
                        link: _Link = key.data
                        sock: socket.socket = key.fileobj  # type: ignore[assignment]
                        if link not in self._links:
                            continue  # dropped earlier in this round
                        if mask & selectors.EVENT_WRITE:
                            self._flush(link, sock)
                        if mask & selectors.EVENT_READ and link in self._links:
                            self._read(link, sock)
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            with self._lock:
                self._stopped = True
                commands, self._commands = self._commands, []
            for link in list(self._links):
                self._drop(link, reset=True)
            self._selector.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()
            for _, done in commands:
                done.set()

    def _handle_commands(self) -> bool:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        with self._lock:
            commands, self._commands = self._commands, []
        stop = False
        for name, done in commands:
            if name == "cut":
                self._cut = True
                for link in list(self._links):
                    self._drop(link, reset=True)
            elif name == "restore":
                self._cut = False
            elif name == "close":
                stop = True
            if not stop:
                done.set()
            else:
                with self._lock:
                    self._commands.append((name, done))  # set in _run's finally, after closing
        return stop

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if self._cut:
            _reset(client)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=_CONNECT_TIMEOUT)
        except OSError:
            _reset(client)
            return
        link = _Link(client, upstream)
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._links.add(link)
        self._update(link)

    def _read(self, link: _Link, sock: socket.socket) -> None:
        try:
            data = sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(link, reset=True)
            return
        peer = link.peer(sock)
        if not data:
            link.done_reading.add(sock)
            if not link.pending[peer]:
                self._shutdown_write(peer)
        else:
            link.pending[peer] += data
            self._flush(link, peer)
            if link not in self._links:
                return
        if link.finished():
            self._drop(link, reset=False)
        else:
            self._update(link)

    def _flush(self, link: _Link, sock: socket.socket) -> None:
        buffer = link.pending[sock]
        if buffer:
            try:
                sent = sock.send(buffer)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._drop(link, reset=True)
                return
            del buffer[:sent]
            if not buffer and link.peer(sock) in link.done_reading:
                self._shutdown_write(sock)
        if link.finished():
            self._drop(link, reset=False)
        else:
            self._update(link)

    @staticmethod
    def _shutdown_write(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)

    def _update(self, link: _Link) -> None:
        """Read a side only while the bytes it sent last are delivered (backpressure); write a
        side while it has bytes pending."""
        for sock in (link.client, link.upstream):
            events = 0
            if sock not in link.done_reading and not link.pending[link.peer(sock)]:
                events |= selectors.EVENT_READ
            if link.pending[sock]:
                events |= selectors.EVENT_WRITE
            registered = sock in self._selector.get_map()
            if events and registered:
                self._selector.modify(sock, events, link)
            elif events:
                self._selector.register(sock, events, link)
            elif registered:
                self._selector.unregister(sock)

    def _drop(self, link: _Link, *, reset: bool) -> None:
        self._links.discard(link)
        for sock in (link.client, link.upstream):
            if sock in self._selector.get_map():
                self._selector.unregister(sock)
            if reset:
                _reset(sock)
            else:
                sock.close()
