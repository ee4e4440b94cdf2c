"""A loopback TCP proxy in front of Postgres that counts round trips.

A round trip is a burst of client messages followed by the server's answer: what a request
waits for on the network. Counting at the socket does not trust any library's account.
"""

from __future__ import annotations

import glob
import os
import select
import socket
import threading

# Frontend message types (PostgreSQL protocol 3).
_NAMES = {
    "P": "Parse",
    "B": "Bind",
    "E": "Execute",
    "D": "Describe",
    "S": "Sync",
    "Q": "Query",
    "H": "Flush",
    "C": "Close",
    "X": "Terminate",
}


def _socket_path(host: str, port: int) -> str:
    exact = os.path.join(host, f".s.PGSQL.{port}")
    if os.path.exists(exact):
        return exact
    found = [p for p in glob.glob(os.path.join(host, ".s.PGSQL.*")) if not p.endswith(".lock")]
    if not found:
        raise FileNotFoundError(f"no Postgres socket in {host}")
    return found[0]


class CountingProxy:
    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._turns: list[list[str]] = []
        self._last = "server"
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        host, port = self._target
        if host.startswith("/"):
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(_socket_path(host, port))
            return upstream
        return socket.create_connection((host, port))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _note_client(self, data: bytes) -> None:
        with self._lock:
            if self._last == "server":
                self._turns.append([])
            self._last = "client"
            self._turns[-1].extend(_message_types(data))

    def _note_server(self) -> None:
        with self._lock:
            self._last = "server"

    def _pump(self, client: socket.socket) -> None:
        upstream = self._connect_upstream()
        peers = {client: upstream, upstream: client}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [])
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client:
                        self._note_client(data)
                    else:
                        self._note_server()
                    peers[source].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def reset(self) -> None:
        with self._lock:
            self._turns = []
            self._last = "server"

    def turns(self) -> list[str]:
        """One entry per round trip: the client messages it carried."""
        with self._lock:
            return [" ".join(turn) for turn in self._turns]

    def close(self) -> None:
        self._listener.close()


def _message_types(data: bytes) -> list[str]:
    """Names of the messages in a client burst (best effort: bursts may split messages)."""
    names, offset = [], 0
    while offset + 5 <= len(data):
        kind = chr(data[offset])
        length = int.from_bytes(data[offset + 1 : offset + 5], "big")
        if kind not in _NAMES or length < 4:
            break
        names.append(_NAMES[kind])
        offset += 1 + length
    return names
