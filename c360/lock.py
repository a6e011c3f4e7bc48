"""The lakehouse lock: one run at a time writes a lakehouse.

A lease file ``<lakehouse_root>/_lock/lease.json`` names the holder (owner, host, pid, run id)
and an expiry. The holder renews it every ``lease_seconds / 3`` from a daemon thread. Another
run finds it held and waits up to ``timeout_seconds`` (polling), then fails with
:class:`LakehouseLockedError` naming the holder. A lease is *stale*, and taken over with a
warning, when its expiry has passed (the holder stopped renewing) or its pid is gone from this
host (a killed run).

Reading, taking, renewing and releasing the lease happen under an exclusive ``flock`` on
``_lock/guard`` held for milliseconds, so two runs can never both take the lease. The lease is
written to a temporary file and renamed into place, so it is never seen half-written.

The lock is re-entrant within a process: ``c360 run`` holds it for the whole run and the Dagster
runs it executes in-process (whose lakehouse resource asks for it too) find it already held.

Example:
    >>> with hold_lakehouse(root, run_id="r1", owner="c360 run"):   # doctest: +SKIP
    ...     run_every_stage()
"""

from __future__ import annotations

import fcntl
import getpass
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from c360.errors import PermanentError

log = logging.getLogger(__name__)

LOCK_DIR = "_lock"
LEASE_FILE = "lease.json"
GUARD_FILE = "guard"


class LakehouseLockedError(PermanentError):
    """Another run holds the lakehouse lock (the message names it and what to do)."""


@dataclass(frozen=True)
class Lease:
    """Who holds the lakehouse and until when (UTC ISO timestamps)."""

    owner: str  # what took it: "c360 run", "c360 features", "dagster run"; and the OS user
    host: str
    pid: int
    run_id: str
    acquired_at: str
    expires_at: str
    token: str  # unique per acquisition: renewal and release touch only their own lease

    def expired(self, now: datetime) -> bool:
        return datetime.fromisoformat(self.expires_at) <= now

    def process_gone(self) -> bool:
        """The holder ran on this host and its process no longer exists."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False

    def describe(self) -> str:
        return (
            f"run {self.run_id} ({self.owner}, pid {self.pid} on {self.host}) since "
            f"{self.acquired_at}, lease until {self.expires_at}"
        )


def lock_dir(lakehouse_root: Path) -> Path:
    return Path(lakehouse_root) / LOCK_DIR


def read_lease(lakehouse_root: Path) -> Lease | None:
    """The current lease, or None when the lakehouse is free."""
    path = lock_dir(lakehouse_root) / LEASE_FILE
    try:
        return Lease(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:  # unreadable: treat as free, say so
        log.warning("ignoring an unreadable lakehouse lease %s (%s)", path, exc)
        return None


@contextmanager
def _guard(lakehouse_root: Path) -> Iterator[None]:
    folder = lock_dir(lakehouse_root)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / GUARD_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_lease(lakehouse_root: Path, lease: Lease) -> None:
    folder = lock_dir(lakehouse_root)
    temporary = folder / f".{LEASE_FILE}.{lease.token}"
    temporary.write_text(json.dumps(asdict(lease), indent=1), encoding="utf-8")
    os.replace(temporary, folder / LEASE_FILE)


class LakehouseLock:
    """A lease on one lakehouse; :meth:`acquire` then :meth:`release` (or use it as a context)."""

    def __init__(
        self,
        lakehouse_root: Path,
        run_id: str,
        owner: str,
        lease_seconds: float = 120,
        timeout_seconds: float = 0,
        poll_seconds: float = 2,
    ) -> None:
        self.root = Path(lakehouse_root)
        self.run_id = run_id
        self.owner = f"{owner} (user {getpass.getuser()})"
        self.lease_seconds = lease_seconds
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.token = uuid.uuid4().hex
        self.lease: Lease | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _new_lease(self, now: datetime, acquired_at: str | None = None) -> Lease:
        return Lease(
            owner=self.owner,
            host=socket.gethostname(),
            pid=os.getpid(),
            run_id=self.run_id,
            acquired_at=acquired_at or now.isoformat(timespec="seconds"),
            expires_at=(now + timedelta(seconds=self.lease_seconds)).isoformat(),
            token=self.token,
        )

    def _try_take(self) -> Lease | None:
        """Take the lease if free or stale; otherwise return the holder's lease."""
        with _guard(self.root):
            now = datetime.now(UTC)
            held = read_lease(self.root)
            if held is not None and not (held.expired(now) or held.process_gone()):
                return held
            if held is not None:
                why = "its process is gone" if held.process_gone() else "its lease expired"
                log.warning("taking over the stale lakehouse lock of %s: %s", held.describe(), why)
            self.lease = self._new_lease(now)
            _write_lease(self.root, self.lease)
            return None

    def acquire(self) -> Lease:
        """Take the lease, waiting up to ``timeout_seconds``; start renewing it.

        Raises:
            LakehouseLockedError: still held by another run after the timeout.
        """
        deadline = time.monotonic() + self.timeout_seconds
        while (holder := self._try_take()) is not None:
            if time.monotonic() >= deadline:
                waited = f"waited {self.timeout_seconds:g} s; " if self.timeout_seconds else ""
                raise LakehouseLockedError(
                    f"lakehouse {self.root} is locked by {holder.describe()}: another run is "
                    f"writing it. {waited}Run again when it has finished, or set "
                    "lock.timeout_seconds (conf/) to wait for it; a lease of a killed run is "
                    "taken over once its process is gone or its lease has expired"
                )
            time.sleep(min(self.poll_seconds, max(deadline - time.monotonic(), 0.01)))
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_until_stopped, name="c360-lakehouse-lease", daemon=True
        )
        self._renewer.start()
        assert self.lease is not None
        return self.lease

    def renew(self) -> bool:
        """Push the expiry forward; False when the lease is no longer ours (taken over)."""
        with _guard(self.root):
            held = read_lease(self.root)
            if held is None or held.token != self.token:
                log.error(
                    "lost the lakehouse lock of run %s (now: %s)",
                    self.run_id,
                    held.describe() if held else "free",
                )
                return False
            self.lease = self._new_lease(datetime.now(UTC), held.acquired_at)
            _write_lease(self.root, self.lease)
            return True

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                if not self.renew():
                    return
            except OSError as exc:  # keep trying: the lease is still valid until it expires
                log.warning("could not renew the lakehouse lease: %s", exc)

    def release(self) -> None:
        """Stop renewing and remove the lease if it is still ours."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with _guard(self.root):
            held = read_lease(self.root)
            if held is not None and held.token == self.token:
                (lock_dir(self.root) / LEASE_FILE).unlink()
        self.lease = None

    def __enter__(self) -> LakehouseLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


# Locks this process holds, by lakehouse root: nested requests reuse them (re-entrant).
_HELD: dict[Path, LakehouseLock] = {}
_HELD_GUARD = threading.Lock()


@contextmanager
def hold_lakehouse(
    lakehouse_root: Path,
    run_id: str,
    owner: str,
    lease_seconds: float = 120,
    timeout_seconds: float = 0,
    poll_seconds: float = 2,
) -> Iterator[Lease]:
    """Hold the lakehouse lock for the ``with`` block (re-entrant within this process).

    Raises:
        LakehouseLockedError: another run holds it after ``timeout_seconds``.
    """
    root = Path(lakehouse_root).absolute()
    with _HELD_GUARD:
        outer = _HELD.get(root)
    if outer is not None and outer.lease is not None:
        yield outer.lease
        return
    lock = LakehouseLock(root, run_id, owner, lease_seconds, timeout_seconds, poll_seconds)
    lease = lock.acquire()
    with _HELD_GUARD:
        _HELD[root] = lock
    try:
        yield lease
    finally:
        with _HELD_GUARD:
            _HELD.pop(root, None)
        lock.release()
