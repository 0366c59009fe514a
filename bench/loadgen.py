"""A small HTTP/1.1 load generator for servers on loopback, in pure Python so that the quick run
needs nothing beyond the project's own dependencies.

Keep-alive connections on asyncio (uvloop, which ``uvicorn[standard]`` brings, when installed);
each request is pre-encoded bytes and each response is parsed just enough (status line and
Content-Length), so one process drives a few thousand requests a second while leaving the cores to
the server under test.

- :func:`closed_loop`: C connections, each sending its next request as soon as the last answer
  arrived. Its throughput is the server's peak.
- :func:`open_loop`: requests started at a constant rate whatever the server does, each latency
  measured from the moment it was due (not from when a connection was free), so a server that
  stalls shows it in the tail instead of slowing the generator down (no coordinated omission).

Errors are every answer outside 2xx and every failure (refused, reset, timed out).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

TIMEOUT = 10.0  # seconds before a request counts as failed


@dataclass
class Outcome:
    seconds: float = 0.0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, of every answered request
    statuses: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  # the first few error answers, for reading
    cpu_ms: float = 0.0  # the server's CPU time per answered request, when the caller measured it

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def record(self, status: int, body: bytes, latency: float) -> None:
        self.statuses[status] += 1
        self.latencies.append(latency)
        if 200 <= status < 300:
            self.ok += 1
        else:
            self.fail(f"{status} {body[:300].decode('utf-8', 'replace')}")

    def fail(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(what)


def request_bytes(method: str, path: str, *, token: str | None = None, json_body: bytes | None = None,
                  host: str = "127.0.0.1") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json", "Accept-Language: en"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    body = json_body or b""
    if json_body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Conn(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None or self.waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.waiter.set_exception(ConnectionError("answer without Content-Length"))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17:stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buf) < total:
            return
        status = int(head[9:12])
        body = bytes(self.buf[end + 4:total])
        del self.buf[:total]
        self.waiter.set_result((status, body))

    async def send(self, data: bytes) -> tuple[int, bytes]:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await asyncio.wait_for(self.waiter, TIMEOUT)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Pool:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conns: list[_Conn] = []

    async def connect(self) -> _Conn:
        _, conn = await asyncio.get_running_loop().create_connection(_Conn, self.host, self.port)
        self.conns.append(conn)
        return conn

    async def call(self, conn: _Conn, data: bytes, out: Outcome, due: float) -> _Conn:
        """Send one request on ``conn`` (a fresh one if it was closed); returns the connection to
        use next. Latency counts from ``due``."""
        loop = asyncio.get_running_loop()
        try:
            if conn.closed:
                conn = await self.connect()
            status, body = await conn.send(data)
            out.record(status, body, loop.time() - due)
        except (TimeoutError, OSError) as exc:
            out.fail(f"{type(exc).__name__}: {exc}")
            conn.close()
            try:
                conn = await self.connect()
            except OSError as again:  # the server is gone: count it, do not spin
                out.fail(f"{type(again).__name__}: {again}")
                await asyncio.sleep(0.1)
        return conn

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def _run(coro):
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def closed_loop(host: str, port: int, requests: Sequence[bytes], *, concurrency: int, seconds: float) -> Outcome:
    """``concurrency`` connections sending back to back for ``seconds``; request ``i`` of a
    connection is ``requests[i % len(requests)]``."""

    async def main() -> Outcome:
        loop = asyncio.get_running_loop()
        pool = _Pool(host, port)
        out = Outcome()
        conns = [await pool.connect() for _ in range(concurrency)]
        start = loop.time()
        stop_at = start + seconds

        async def one(conn: _Conn, k: int) -> None:
            i = k
            while loop.time() < stop_at:
                conn = await pool.call(conn, requests[i % len(requests)], out, loop.time())
                i += 1

        await asyncio.gather(*(one(c, k) for k, c in enumerate(conns)))
        out.seconds = loop.time() - start
        pool.close()
        return out

    return _run(main())


def open_loop(host: str, port: int, requests: Sequence[bytes], *, rate: float, seconds: float,
              connections: int = 64, tick: tuple[float, Callable[[], None]] | None = None) -> Outcome:
    """Request ``i`` (``requests[i % len(requests)]``) is due at ``i / rate`` seconds; it takes the
    next free of ``connections`` keep-alive connections. ``tick=(every, fn)`` calls ``fn`` every
    ``every`` seconds meanwhile (the soak samples memory with it)."""

    async def main() -> Outcome:
        loop = asyncio.get_running_loop()
        pool = _Pool(host, port)
        out = Outcome()
        free: asyncio.Queue[_Conn] = asyncio.Queue()
        for _ in range(connections):
            free.put_nowait(await pool.connect())

        async def one(data: bytes, due: float) -> None:
            conn = await free.get()
            free.put_nowait(await pool.call(conn, data, out, due))

        async def ticker(every: float, fn: Callable[[], None]) -> None:
            while True:
                await asyncio.sleep(every)
                await loop.run_in_executor(None, fn)

        ticking = asyncio.ensure_future(ticker(*tick)) if tick else None
        total = int(rate * seconds)
        start = loop.time() + 0.01
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(requests[i % len(requests)], due)))
        await asyncio.gather(*tasks)
        out.seconds = loop.time() - start
        if ticking is not None:
            ticking.cancel()
        pool.close()
        return out

    return _run(main())


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
