"""HTTP/1.1 on the wire: request heads and chunked bodies in, response heads out (RFC 9112).

Strict where leniency would let a request mean two things to two parsers
(request smuggling): a body framed by both Content-Length and
Transfer-Encoding, folded header lines, disagreeing Content-Lengths and
unknown transfer codings are refused with a 4xx, never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate
from time import time

_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/(1\.[01])")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n]*)?")
MAX_CHUNK_LINE = 1024


class HttpError(Exception):
    """A request the server answers itself, with ``status`` and a short reason, then closes the connection."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class RequestHead:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # WSGI names (HTTP_X_Y, CONTENT_TYPE, CONTENT_LENGTH), repeated headers joined by ", "
    content_length: int  # -1: chunked
    keep_alive: bool
    expect_continue: bool


def parse_head(head: bytes, max_body: int) -> RequestHead:
    """The request line and headers (without the blank line that ends them)."""
    lines = head.split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        raise HttpError("400 Bad Request", "malformed request line")
    method, target, version = match.group(1).decode(), match.group(2).decode("latin-1"), match.group(3).decode()
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or _TOKEN.fullmatch(name) is None:
            raise HttpError("400 Bad Request", "malformed header line")
        key = name.decode().upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        text = value.strip(b" \t").decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    connection = headers.get("HTTP_CONNECTION", "").lower()
    keep_alive = version == "1.1" and "close" not in connection
    length = _body_length(headers, max_body)
    expect = headers.get("HTTP_EXPECT", "").lower() == "100-continue"
    return RequestHead(method, target, version, headers, length, keep_alive, expect)


def _body_length(headers: dict[str, str], max_body: int) -> int:
    coding = headers.pop("HTTP_TRANSFER_ENCODING", None)
    length_text = headers.get("CONTENT_LENGTH")
    if coding is not None:
        if length_text is not None:
            raise HttpError("400 Bad Request", "both Content-Length and Transfer-Encoding")
        if coding.strip().lower() != "chunked":
            raise HttpError("501 Not Implemented", "only the chunked transfer coding is supported")
        return -1
    if length_text is None:
        return 0
    values = {part.strip() for part in length_text.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit() or len(next(iter(values))) > 18:
        raise HttpError("400 Bad Request", "invalid Content-Length")
    length = int(values.pop())
    if length > max_body:
        raise HttpError("413 Content Too Large", f"the body is larger than the {max_body}-byte limit")
    headers["CONTENT_LENGTH"] = str(length)
    return length


class ChunkedBody:
    """Decodes a chunked body fed in pieces; ``feed`` returns the bytes after it once the body is whole."""

    _SIZE, _DATA, _CRLF, _TRAILERS = range(4)

    def __init__(self, max_body: int) -> None:
        self._max = max_body
        self._parts: list[bytes] = []
        self._size = 0
        self._pending = b""
        self._left = 0  # bytes of the current chunk still to come
        self._trailer_bytes = 0
        self._state = self._SIZE
        self.done = False

    def body(self) -> bytes:
        return b"".join(self._parts)

    def feed(self, data: bytes) -> bytes:
        if self._pending:
            data = self._pending + data
            self._pending = b""
        pos = 0
        while True:
            if self._state == self._DATA:
                taken = min(self._left, len(data) - pos)
                self._parts.append(data[pos : pos + taken])
                pos += taken
                self._left -= taken
                if self._left:
                    return b""
                self._state = self._CRLF
            if self._state == self._CRLF:
                if len(data) - pos < 2:
                    self._pending = data[pos:]
                    return b""
                if data[pos : pos + 2] != b"\r\n":
                    raise HttpError("400 Bad Request", "a chunk does not end with CRLF")
                pos += 2
                self._state = self._SIZE
            end = data.find(b"\r\n", pos)
            if end < 0:
                if len(data) - pos > MAX_CHUNK_LINE:
                    raise HttpError("400 Bad Request", "chunk size or trailer line too long")
                self._pending = data[pos:]
                return b""
            line = data[pos:end]
            pos = end + 2
            if self._state == self._TRAILERS:
                if not line:
                    self.done = True
                    return data[pos:]
                self._trailer_bytes += len(line)
                if self._trailer_bytes > MAX_CHUNK_LINE * 8:
                    raise HttpError("431 Request Header Fields Too Large", "too many trailer bytes")
                continue
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise HttpError("400 Bad Request", "malformed chunk size")
            size = int(match.group(1), 16)
            if size == 0:
                self._state = self._TRAILERS
                continue
            self._size += size
            if self._size > self._max:
                raise HttpError("413 Content Too Large", f"the body is larger than the {self._max}-byte limit")
            self._left = size
            self._state = self._DATA


_NO_BODY = ("1", "204", "304")
_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The Date header's value, formatted once a second."""
    global _date_cache
    now = int(time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def response_head(status: str, headers: list[tuple[str, str]], body_size: int, close: bool) -> bytes:
    """Status line and headers; Content-Length is added when the app did not give one."""
    lines = [f"HTTP/1.1 {status}\r\n"]
    has_length = False
    for name, value in headers:
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ValueError(f"header {name!r} holds a line break")
        lowered = name.lower()
        if lowered == "content-length":
            has_length = True
        elif lowered in ("connection", "transfer-encoding"):
            continue  # hop-by-hop: the server decides these
        lines.append(f"{name}: {value}\r\n")
    if not has_length and not status.startswith(_NO_BODY):
        lines.append(f"Content-Length: {body_size}\r\n")
    lines.append(f"Date: {http_date()}\r\n")
    if close:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def error_response(status: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """An answer the server gives itself, after which it closes the connection."""
    body = (message + "\n").encode()
    head = response_head(status, [("Content-Type", "text/plain; charset=utf-8"), *headers], len(body), close=True)
    return head + body
