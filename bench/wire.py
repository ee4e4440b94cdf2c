"""A loopback TCP proxy in front of Postgres that counts round trips and names what they carry.

Counting at the socket trusts no library's account of what it sent: a round trip ("turn") is
a burst of client→server bytes that the server answers with server→client bytes. Both
directions are parsed as PostgreSQL protocol 3 messages so each turn can be shown with its
statements (``Parse``/``Query`` text) and the server's command tags.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["CountingProxy", "Turn"]

#: Frontend message types (protocol 3), by their first byte.
FRONTEND = {
    "P": "Parse",
    "B": "Bind",
    "D": "Describe",
    "E": "Execute",
    "S": "Sync",
    "H": "Flush",
    "Q": "Query",
    "C": "Close",
    "X": "Terminate",
    "p": "Password",
    "d": "CopyData",
    "c": "CopyDone",
    "f": "CopyFail",
    "F": "FunctionCall",
}

_PROTOCOL_3 = 196608
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_SNIPPET = 44


def _snippet(sql: str) -> str:
    """A statement's text, whitespace collapsed and shortened for one line."""
    text = " ".join(sql.split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def _cstring(body: bytes, start: int = 0) -> tuple[str, int]:
    end = body.find(b"\0", start)
    if end < 0:
        return body[start:].decode("utf-8", "replace"), len(body)
    return body[start:end].decode("utf-8", "replace"), end + 1


@dataclass
class Turn:
    """One round trip: what the client sent, and what the server answered."""

    #: First byte of each client message, in order (``P``, ``B``, ``D``, ``E``, ``S``, ``Q``...).
    kinds: list[str] = field(default_factory=list)
    #: The SQL text of each ``Parse`` and ``Query`` message.
    statements: list[str] = field(default_factory=list)
    #: The server's CommandComplete tags (``BEGIN``, ``SELECT 1``, ``COMMIT``...) and errors.
    replies: list[str] = field(default_factory=list)
    #: Transaction status of the last ReadyForQuery: I idle, T in a transaction, E failed.
    ready: str = ""
    answered: bool = False

    def carries(self) -> str:
        """The statements of this turn, one line."""
        return " | ".join(_snippet(s) for s in self.statements) or "(no statement)"

    def messages(self) -> str:
        """The client's message types, grouped per statement: ``PBDE PBDE S``."""
        groups: list[str] = []
        for kind in self.kinds:
            # A statement starts a group; Sync, Flush and Terminate stand alone.
            if not groups or kind in ("P", "Q", "S", "H", "X"):
                groups.append(kind)
            else:
                groups[-1] += kind
        return " ".join(groups)

    def answer(self) -> str:
        state = {"I": "idle", "T": "in transaction", "E": "failed transaction"}.get(self.ready, "")
        tags = ", ".join(self.replies) or "(no command tag)"
        return f"{tags}; then {state}" if state else tags


class _Frontend:
    """Splits the client's byte stream into messages (the startup packet has no type byte)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._started = False
        #: Single-byte answers the server owes (to SSLRequest / GSSENCRequest).
        self.pending_single_bytes = 0

    def feed(self, data: bytes) -> list[tuple[str, str | None]]:
        self._buffer += data
        messages: list[tuple[str, str | None]] = []
        buffer = self._buffer
        while True:
            if not self._started:
                if len(buffer) < 8:
                    break
                length = int.from_bytes(buffer[0:4], "big")
                if len(buffer) < length:
                    break
                code = int.from_bytes(buffer[4:8], "big")
                del buffer[:length]
                if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    self.pending_single_bytes += 1
                elif code == _PROTOCOL_3:
                    self._started = True
                continue
            if len(buffer) < 5:
                break
            length = int.from_bytes(buffer[1:5], "big")
            if len(buffer) < 1 + length:
                break
            kind = chr(buffer[0])
            body = bytes(buffer[5 : 1 + length])
            del buffer[: 1 + length]
            statement: str | None = None
            if kind == "P":
                _, offset = _cstring(body)  # the statement's name ("" = unnamed)
                statement, _ = _cstring(body, offset)
            elif kind == "Q":
                statement, _ = _cstring(body)
            messages.append((kind, statement))
        return messages


class _Backend:
    """Splits the server's byte stream into messages and keeps what a reader needs."""

    def __init__(self, frontend: _Frontend) -> None:
        self._buffer = bytearray()
        self._frontend = frontend

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        self._buffer += data
        messages: list[tuple[str, str]] = []
        buffer = self._buffer
        while buffer:
            if self._frontend.pending_single_bytes:
                self._frontend.pending_single_bytes -= 1
                del buffer[:1]
                continue
            if len(buffer) < 5:
                break
            length = int.from_bytes(buffer[1:5], "big")
            if len(buffer) < 1 + length:
                break
            kind = chr(buffer[0])
            body = bytes(buffer[5 : 1 + length])
            del buffer[: 1 + length]
            if kind == "C":
                messages.append((kind, _cstring(body)[0]))
            elif kind == "Z":
                messages.append((kind, body[:1].decode()))
            elif kind == "E":
                fields = dict(
                    (chunk[:1].decode(), chunk[1:].decode("utf-8", "replace"))
                    for chunk in body.split(b"\0")
                    if chunk
                )
                messages.append((kind, f"ERROR {fields.get('C', '')} {fields.get('M', '')}"))
        return messages


def _upstream_address(conninfo: str) -> tuple[int, str | tuple[str, int]]:
    """Where the server listens: (address family, address), from a libpq conninfo.

    A ``host`` that is a directory is the Unix socket ``<dir>/.s.PGSQL.<port>`` (5432 unless
    ``port`` says otherwise), as libpq reads it.
    """
    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or "").split(",")[0]
    port = int(str(params.get("port") or "5432").split(",")[0])
    if not host or host.startswith("/"):
        directory = host or "/var/run/postgresql"
        return socket.AF_UNIX, os.path.join(directory, f".s.PGSQL.{port}")
    address = str(params.get("hostaddr") or "").split(",")[0] or host
    return socket.AF_INET, (address, port)


class CountingProxy:
    """Listens on 127.0.0.1 (a free port) and forwards every connection to the server.

    The turns of all connections go into one list: point one connection at it at a time.
    """

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._family, self._address = _upstream_address(conninfo)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._turns: list[Turn] = []
        self._client_spoke_last = False
        threading.Thread(target=self._accept, name="bench-proxy", daemon=True).start()

    def conninfo(self, of: str | None = None) -> str:
        """The conninfo (or ``of``, another role's on the same server) pointed at the proxy
        (plain TCP, so it can read the messages)."""
        if of is not None and _upstream_address(of) != (self._family, self._address):
            raise ValueError("that conninfo names another server than this proxy's")
        params = conninfo_to_dict(of or self._conninfo)
        params.pop("hostaddr", None)
        params.update(
            host="127.0.0.1", port=str(self.port), sslmode="disable", gssencmode="disable"
        )
        return make_conninfo("", **params)

    def reset(self) -> None:
        """Forget what was counted: call it while the connection is idle."""
        with self._lock:
            self._turns = []
            self._client_spoke_last = False

    def turns(self) -> list[Turn]:
        """The round trips since the last reset (bursts the server answered)."""
        with self._lock:
            return [turn for turn in self._turns if turn.answered]

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _client_sent(self, messages: list[tuple[str, str | None]]) -> None:
        with self._lock:
            if not self._client_spoke_last or not self._turns:
                self._turns.append(Turn())
            self._client_spoke_last = True
            turn = self._turns[-1]
            for kind, statement in messages:
                turn.kinds.append(kind)
                if statement is not None:
                    turn.statements.append(statement)

    def _server_sent(self, messages: list[tuple[str, str]]) -> None:
        with self._lock:
            self._client_spoke_last = False
            if not self._turns:
                return
            turn = self._turns[-1]
            turn.answered = True
            for kind, text in messages:
                if kind == "Z":
                    turn.ready = text
                else:
                    turn.replies.append(text)

    def _pump(self, client: socket.socket) -> None:
        upstream = socket.socket(self._family, socket.SOCK_STREAM)
        frontend = _Frontend()
        backend = _Backend(frontend)
        selector = selectors.DefaultSelector()
        try:
            upstream.connect(self._address)
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while True:
                for key, _ in selector.select():
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    target: socket.socket = key.data
                    data = source.recv(65536)
                    if not data:
                        return
                    # Note before forwarding: once the client has its answer, the count
                    # of that turn is complete.
                    if source is client:
                        self._client_sent(frontend.feed(data))
                    else:
                        self._server_sent(backend.feed(data))
                    target.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()
