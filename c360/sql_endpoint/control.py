"""Start and stop the SQL endpoint process (``c360 sql``, ``c360 sql --stop``).

The pid file ``<lakehouse>/_sql/server.json`` holds the pid, the port and the log file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from c360.config import load_settings
from c360.errors import InputError, PermanentError
from c360.sql_endpoint.settings import HOST, SqlEndpointSettings, load_sql_settings, ready_file


def pid_file(root: Path) -> Path:
    return root / "_sql" / "server.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def running(root: Path) -> dict | None:
    """The pid file's content when its process is alive (a stale file is removed)."""
    path = pid_file(root)
    if not path.is_file():
        return None
    info = json.loads(path.read_text())
    if _alive(int(info["pid"])):
        return info
    path.unlink(missing_ok=True)
    return None


def start(root: Path, settings: SqlEndpointSettings) -> dict:
    """Start the server in the background; returns once the port answers.

    Raises:
        InputError: already running, the port taken, or the server did not come up (the log
            file's tail is in the message).
    """
    if info := running(root):
        raise InputError(
            f"the SQL endpoint of {root} already runs (pid {info['pid']}, port {info['port']}): "
            "`c360 sql --stop` first"
        )
    if _port_open(settings.port):
        raise InputError(
            f"port {settings.port} on {HOST} is taken: set port in conf/sql_endpoint.yaml"
        )
    log_file = root / "_sql" / "server.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    ready = ready_file(root)
    ready.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "c360.sql_endpoint.server", "--lakehouse", str(root),
        "--port", str(settings.port),
    ]  # fmt: skip
    env = os.environ | {"SPARK_LOCAL_IP": HOST}
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )  # fmt: skip
    info = {"pid": process.pid, "port": settings.port, "log": str(log_file)}
    pid_file(root).write_text(json.dumps(info))
    deadline = time.monotonic() + settings.start_timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file(root).unlink(missing_ok=True)
            tail = log_file.read_text(errors="replace")[-1500:]
            raise InputError(f"the SQL endpoint exited ({process.returncode}); log:\n{tail}")
        started = ready.is_file() and ready.read_text().strip() == str(process.pid)
        if started and _port_open(settings.port):
            return info
        time.sleep(0.5)
    stop(root)
    raise InputError(
        f"the SQL endpoint did not open port {settings.port} within "
        f"{settings.start_timeout_seconds:.0f} s; see {log_file}"
    )


def stop(root: Path, timeout: float = 60) -> bool:
    """SIGTERM the server and wait for it; False when none was running."""
    info = running(root)
    if info is None:
        return False
    pid = int(info["pid"])
    os.kill(pid, signal.SIGTERM)  # the driver stops the Thrift server and its JVM itself
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.3)
        with contextlib.suppress(ChildProcessError):  # reap it when we started it
            os.waitpid(pid, os.WNOHANG)
    if _alive(pid):  # did not stop in time: its whole session (the JVM child too)
        os.killpg(pid, signal.SIGKILL)
    pid_file(root).unlink(missing_ok=True)
    ready_file(root).unlink(missing_ok=True)
    return True


def refresh(root: Path) -> bool:
    """Ask a running server to re-register changed tables now (SIGHUP)."""
    if info := running(root):
        os.kill(int(info["pid"]), signal.SIGHUP)
        return True
    return False


def _sql(args: argparse.Namespace) -> int:
    overrides = {"lakehouse_root": str(Path(args.lakehouse).absolute())} if args.lakehouse else {}
    root = load_settings(overrides=overrides).lakehouse_root
    try:
        if args.stop:
            print("stopped" if stop(root) else f"no SQL endpoint runs for {root}")
            return 0
        settings = load_sql_settings(args.config)
        if args.port:
            settings = settings.model_copy(update={"port": args.port})
        info = start(root, settings)
    except PermanentError as exc:
        print(f"c360 sql failed: {exc}", file=sys.stderr)
        return 2
    print(
        f"SQL endpoint (Spark Thrift server, pid {info['pid']}) on "
        f"jdbc:hive2://{HOST}:{info['port']}/gold (no user/password); log {info['log']}\n"
        "databases silver and gold, one view per table, kept current; stop: c360 sql --stop"
    )
    return 0


def add_sql_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sql`` (start) / ``sql --stop``."""
    sql = subparsers.add_parser(
        "sql", help="start (or --stop) the JDBC/ODBC SQL endpoint for BI tools on 127.0.0.1"
    )
    sql.add_argument("--lakehouse", help="lakehouse root (default: lakehouse_root)")
    sql.add_argument("--port", type=int, help="port (default: conf/sql_endpoint.yaml)")
    sql.add_argument("--config", type=Path, help="default conf/sql_endpoint.yaml")
    sql.add_argument("--stop", action="store_true", help="stop the running endpoint")
    sql.set_defaults(func=_sql)
