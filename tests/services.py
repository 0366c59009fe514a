"""Throw-away Redis servers and PostgreSQL clusters for the fault tests.

Each fault test starts its own service on a free loopback port, so that stopping, killing or
restarting it never touches the machine's shared services (nor another engineer's run). The
binaries come from the Debian packages ``redis-server`` and ``postgresql`` (.ci/debian-packages);
a missing binary fails the test, naming the package. Everything started here is stopped by the
fixtures' finalisers, also when a test fails.

initdb and postgres refuse to run as root: as root (CI) they run as the ``postgres`` OS user, in a
temporary directory handed to that user; as anyone else they run as the caller.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REDIS_SERVER = "/usr/bin/redis-server"

def _pg_bin() -> Path:
    """PostgreSQL 15's binaries (the version CI runs), else the newest the Debian package installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if
                   p.parts[-3].isdigit() else 0)
    preferred = Path("/usr/lib/postgresql/15/bin")
    return preferred if (preferred / "initdb").exists() or not found else found[-1].parent


PG_BIN = _pg_bin()
CLI = Path(sys.executable).with_name("shoubanping")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(binary: str | Path, package: str) -> str:
    path = Path(binary) if os.path.isabs(str(binary)) else shutil.which(str(binary))
    if path is None or not Path(path).exists():
        pytest.fail(f"{binary} is missing: install the Debian package `{package}` (see .ci/debian-packages)",
                    pytrace=False)
    return str(path)


def _wait_port(port: int, timeout: float, what: str, process: subprocess.Popen | None = None,
               log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s: {_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path | None, chars: int = 2000) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-chars:]


class RedisServer:
    """A redis-server of our own, with the append-only file on as README asks of production, so that
    a stop and a start on the same port keep what the queues held."""

    def __init__(self) -> None:
        self.binary = require(REDIS_SERVER, "redis-server")
        self.dir = Path(tempfile.mkdtemp(prefix="sbp-redis-"))
        self.port = free_port()
        self.log = self.dir / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
             "--maxmemory-policy", "noeviction", "--logfile", str(self.log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_port(self.port, 20, "redis-server", self.process, self.log)
        return self

    def stop(self) -> None:
        """Shut down as an operator would (SIGTERM: redis-server writes its append-only file and exits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresCluster:
    """A PostgreSQL 15 cluster of our own (initdb), listening on 127.0.0.1 only, fsync off."""

    def __init__(self) -> None:
        for name in ("initdb", "pg_ctl", "postgres"):
            require(PG_BIN / name, "postgresql")
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="sbp-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr or result.stdout}\n"
                               f"{_tail(self.log)}")
        return result

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresCluster:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Process:
    """A ``shoubanping`` command in a process of its own (a worker, say), its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        assert CLI.exists(), f"the console script is not installed at {CLI}"
        self.log = cwd / f"{args[0]}-{time.monotonic_ns()}.log"
        self._out = self.log.open("wb")
        self.process = subprocess.Popen([str(CLI), *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=self._out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError(f"process exited with {self.process.returncode}: {self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {text!r} within {timeout}s: {self.output()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._out.close()


def cli_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any SHOUBANPING_* setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUBANPING_")}
    env.update({f"SHOUBANPING_{k.upper()}": v for k, v in settings.items()})
    return env
