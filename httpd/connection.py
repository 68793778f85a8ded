"""One port's connections on its event loop: reading requests, calling the app, deadlines, the connection cap.

Each connection is a small state machine driven by the event loop
(``asyncio.Protocol``), so an idle or slow client costs a few hundred bytes,
not a thread.  Every state that waits on the client has a deadline fixed
when the state begins (``httpd.limits``), and one sweep a fraction of a
second checks them all, so no per-byte timer work lands on the hot path.
With ``pool`` None the app runs on the loop's thread (an app that only
computes, such as OTLP ingest, gains nothing from hand-offs under the GIL),
and only an answer that says collecting it waits (``httpd.wsgi.BLOCKING``:
OTLP ingest waiting for its persistent queue's disk sync) is collected off
it, by the ``waiting`` collector (``httpd.waiting``); otherwise the app runs
on the pool, one request per connection at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import Executor, Future
from typing import Any

from httpd.http11 import ChunkedBody, HttpError, RequestHead, error_response, parse_head, response_head
from httpd.limits import Limits
from httpd.waiting import AnswerCollector, Stopped
from httpd.wsgi import Answer, AppCall, WsgiApp, call_app, environ_for

log = logging.getLogger("httpd")

_IDLE, _HEAD, _BODY, _BUSY, _WRITING = range(5)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# What a client may send ahead while its request is busy (the app runs, or its answer waits) before reading
# pauses: requests are taken one at a time per connection, and a client that sends no more than one request
# ahead costs no pause and resume of its socket (two epoll changes per request)
_AHEAD_WHILE_BUSY = 64 * 1024
_REFUSAL_LOG_INTERVAL = 10.0


class Listener:
    """What the connections of one port share: the app, the limits, who is open and who is idle."""

    def __init__(
        self,
        app: WsgiApp,
        limits: Limits,
        pool: Executor | None,
        name: str,
        waiting: AnswerCollector | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.pool = pool
        self.waiting = waiting  # where an answer that waits is collected when the app runs on the loop
        self.name = name
        self.loop = asyncio.get_running_loop()
        self.server_address = ("", "")
        self.server: asyncio.AbstractServer | None = None  # set once listening; closed when draining starts
        self.connections: dict[Connection, None] = {}
        self.idle: dict[Connection, float] = {}  # since when, the longest idle first
        self.draining = False
        self._drained = asyncio.Event()
        self._refused = 0
        self._refusal_logged = 0.0
        self._sweeper = self.loop.call_later(limits.sweep_interval, self._sweep)

    def admit(self, connection: Connection) -> bool:
        """Room for one more: at the cap the longest-idle connection makes way; with none idle, no.

        Only a connection idle for a sweep interval or more makes way, so that a newcomer
        is not closed by the next one before its first bytes were even read.
        """
        if self.draining:
            return False
        if len(self.connections) >= self.limits.max_connections:
            oldest = next(iter(self.idle.items()), None)
            if oldest is None or self.loop.time() - oldest[1] < self.limits.sweep_interval:
                self._note_refusal()
                return False
            oldest[0].close()
        self.connections[connection] = None
        return True

    def forget(self, connection: Connection) -> None:
        self.connections.pop(connection, None)
        self.idle.pop(connection, None)
        if self.draining and not self.connections:
            self._drained.set()

    def _note_refusal(self) -> None:
        self._refused += 1
        now = self.loop.time()
        if now - self._refusal_logged >= _REFUSAL_LOG_INTERVAL:
            log.warning(
                "%s: %d connection(s) refused: all %d allowed are open and busy (max_connections)",
                self.name,
                self._refused,
                self.limits.max_connections,
            )
            self._refusal_logged = now
            self._refused = 0

    def _sweep(self) -> None:
        now = self.loop.time()
        for connection in [c for c in self.connections if 0 < c.deadline <= now]:
            connection.expire()
        self._sweeper = self.loop.call_later(self.limits.sweep_interval, self._sweep)

    async def drain(self, grace: float) -> None:
        """Close what waits on its client; let requests in progress be answered (up to ``grace`` s); abort the rest."""
        self.draining = True
        self._sweeper.cancel()
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.close_unless_busy()
        if self.connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), grace)
        for connection in list(self.connections):
            connection.abort()


_REFUSED = ("503 Service Unavailable", "too many connections on this port; retry later", (("Retry-After", "1"),))


class Connection(asyncio.Protocol):
    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self._transport: Any = None
        self._buffer = bytearray()
        self._head: RequestHead | None = None
        self._chunked: ChunkedBody | None = None
        self._state = _IDLE
        self._request_deadline = 0.0
        self._peer = ("", "")
        self._paused_writing = False
        self._paused_reading = False
        self._eof = False  # the client shut its sending side while a request was busy
        self._closed = False
        self.deadline = 0.0  # when the current state ends the connection; 0: never

    # asyncio.Protocol

    def connection_made(self, transport: Any) -> None:
        self._transport = transport
        if not self._listener.admit(self):
            self._closed = True
            transport.write(error_response(*_REFUSED))
            transport.close()
            return
        peer = transport.get_extra_info("peername")
        self._peer = (str(peer[0]), str(peer[1])) if isinstance(peer, tuple) else ("", "")
        self._wait_idle(self._listener.limits.read_header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._listener.forget(self)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self._state == _WRITING and not self._closed:
            self._after_answer()
            self._process()

    def eof_received(self) -> bool | None:
        """A client that shut its sending side after a request still gets the answer of the one in progress."""
        if self._state != _BUSY:
            return None  # the transport closes
        self._eof = True
        return True

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        self._buffer += data
        if self._state != _BUSY:
            self._process()
        elif len(self._buffer) > _AHEAD_WHILE_BUSY and not self._paused_reading:
            self._paused_reading = True
            self._transport.pause_reading()

    # the request cycle

    def _wait_idle(self, timeout: float) -> None:
        self._state = _IDLE
        now = self._listener.loop.time()
        self.deadline = now + timeout
        self._listener.idle[self] = now

    def _process(self) -> None:
        listener = self._listener
        try:
            while not self._closed and not self._paused_writing and self._state != _BUSY:
                if self._state == _IDLE:
                    if not self._buffer:
                        return
                    listener.idle.pop(self, None)
                    now = listener.loop.time()
                    self._state = _HEAD
                    self._request_deadline = now + listener.limits.read_timeout
                    self.deadline = min(now + listener.limits.read_header_timeout, self._request_deadline)
                if self._state == _HEAD and not self._read_head():
                    return
                if self._state == _BODY:
                    body = self._read_body()
                    if body is None:
                        return
                    self._dispatch(body)
        except HttpError as exc:
            self._fail(exc.status, str(exc))

    def _read_head(self) -> bool:
        limits = self._listener.limits
        buffer = self._buffer
        while buffer[:2] == b"\r\n":  # stray line ends between requests are allowed
            del buffer[:2]
        end = buffer.find(b"\r\n\r\n")
        if end < 0 and len(buffer) <= limits.max_request_header_size:
            return False
        if end < 0 or end > limits.max_request_header_size:
            raise HttpError("431 Request Header Fields Too Large", "the request head is too large")
        head = parse_head(bytes(buffer[:end]), limits.max_request_body_size)
        del buffer[: end + 4]
        self._head = head
        if head.content_length < 0:
            self._chunked = ChunkedBody(limits.max_request_body_size)
        self._state = _BODY
        self.deadline = self._request_deadline
        if head.expect_continue and head.content_length and not buffer:
            self._transport.write(_CONTINUE)
        return True

    def _read_body(self) -> bytes | None:
        buffer = self._buffer
        head = self._head
        assert head is not None
        if self._chunked is None:
            size = head.content_length
            if len(buffer) < size:
                return None
            if len(buffer) == size:
                body = bytes(buffer)
                buffer.clear()
            else:
                with memoryview(buffer) as view:
                    body = bytes(view[:size])
                del buffer[:size]
            return body
        rest = self._chunked.feed(bytes(buffer))
        buffer.clear()
        if not self._chunked.done:
            return None
        buffer += rest
        body = self._chunked.body()
        self._chunked = None
        return body

    def _dispatch(self, body: bytes) -> None:
        listener = self._listener
        head = self._head
        assert head is not None
        self._head = None
        self._state = _BUSY
        self.deadline = 0.0
        environ = environ_for(head, body, listener.server_address, self._peer, listener.pool is not None)
        bodiless = head.method == "HEAD"
        if listener.pool is None:
            call = AppCall(listener.app, environ)
            if not call.begin() or listener.waiting is None:
                self._answer(call.finish(), head.keep_alive, bodiless)
                return
            try:
                listener.waiting.submit(call.finish, lambda answer: self._answered(answer, head, bodiless))
            except Stopped:
                self._fail("503 Service Unavailable", "the server is stopping")
            return
        try:
            future = listener.pool.submit(call_app, listener.app, environ)
        except RuntimeError:  # the pool is shut down: the server is stopping
            self._fail("503 Service Unavailable", "the server is stopping")
            return
        future.add_done_callback(lambda done: self._hand_back(done, head, bodiless))

    def _hand_back(self, future: Future[Answer], head: RequestHead, bodiless: bool) -> None:
        """On the pool's thread: the loop writes the answer (unless it has stopped, and the connection with it)."""
        with contextlib.suppress(RuntimeError):
            self._listener.loop.call_soon_threadsafe(lambda: self._answered(future.result(), head, bodiless))

    def _answered(self, answer: Answer, head: RequestHead, bodiless: bool) -> None:
        """On the loop: write an answer made off it, and go on reading."""
        if self._closed:
            return
        if self._paused_reading:
            self._paused_reading = False
            self._transport.resume_reading()
        self._answer(answer, head.keep_alive, bodiless)
        self._process()

    def _answer(self, answer: Answer, keep_alive: bool, bodiless: bool) -> None:
        status, headers, body = answer
        keep_alive = keep_alive and not self._listener.draining and not self._eof
        try:
            head = response_head(status, headers, sum(map(len, body)), close=not keep_alive)
        except ValueError:
            log.exception("%s: the app's answer cannot be sent", self._listener.name)
            self._fail("500 Internal Server Error", "internal server error")
            return
        if bodiless or not body:
            self._transport.write(head)
        else:
            self._transport.write(b"".join((head, *body)))
        if not keep_alive:
            self.close()
            return
        self._state = _WRITING
        if self._paused_writing:
            self.deadline = self._listener.loop.time() + self._listener.limits.write_timeout
        else:
            self._after_answer()

    def _after_answer(self) -> None:
        if self._listener.draining:
            self.close()
        elif self._buffer:
            self._state = _IDLE  # a pipelined request is already here; _process takes it
        else:
            self._wait_idle(self._listener.limits.idle_timeout)

    def _fail(self, status: str, message: str) -> None:
        self._transport.write(error_response(status, message))
        self.close()

    # ends

    def expire(self) -> None:
        """The deadline of the current state passed: a request not read in time is answered 408."""
        if self._state in (_HEAD, _BODY):
            self._fail("408 Request Timeout", "the request was not received in time")
        elif self._state == _WRITING:
            self.abort()
        else:
            self.close()

    def close_unless_busy(self) -> None:
        if self._state in (_IDLE, _HEAD):
            self.close()

    def close(self) -> None:
        """Close once what is written has gone out."""
        self._closed = True
        self._listener.forget(self)
        self._transport.close()

    def abort(self) -> None:
        self._closed = True
        self._listener.forget(self)
        self._transport.abort()
