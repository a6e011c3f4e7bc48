"""Erasure request files: ``<raw_root>/privacy/<YYYY-MM-DD>/erasure_requests*.csv``.

Columns ``request_id, received_at, kind, value`` (c360.contract ERASURE_REQUEST_COLUMNS);
``received_at`` is ISO 8601 (UTC when it has no offset); ``kind`` is one of ERASURE_KINDS.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path

from c360.contract import (
    DAY_FORMAT,
    ERASURE_KINDS,
    ERASURE_REQUEST_COLUMNS,
    ERASURE_REQUEST_GLOB,
    PRIVACY_FOLDER,
)
from c360.errors import InputError
from c360.privacy_rules import standardised_identifier


class ErasureRequestError(InputError):
    """An erasure request file breaks the contract; the message names file, line and column."""


@dataclass(frozen=True)
class ErasureRequest:
    """One request; ``value`` is standardised and is never logged or stored."""

    request_id: str
    received_at: datetime
    kind: str
    value: str = ""

    def __repr__(self) -> str:  # the value stays out of logs and tracebacks
        return f"ErasureRequest({self.request_id!r}, {self.kind!r})"


def _received_at(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ErasureRequestError(
            f"{where}: column received_at is not an ISO 8601 timestamp (e.g. "
            "2026-11-03T09:15:00+07:00)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _request(row: dict[str, str], where: str) -> ErasureRequest:
    kind = (row.get("kind") or "").strip().lower()
    if kind not in ERASURE_KINDS:
        raise ErasureRequestError(f"{where}: column kind must be one of {list(ERASURE_KINDS)}")
    request_id = (row.get("request_id") or "").strip()
    if not request_id:
        raise ErasureRequestError(f"{where}: column request_id is empty")
    value = standardised_identifier(kind, row.get("value"))
    if value is None:
        raise ErasureRequestError(
            f"{where}: column value is not a usable {kind} (source_record: SYSTEM:ID)"
        )
    return ErasureRequest(
        request_id, _received_at(row.get("received_at") or "", where), kind, value
    )


def request_files(raw_root: Path) -> list[Path]:
    """Every erasure request file of the landing zone, oldest day first."""
    folder = Path(raw_root) / PRIVACY_FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.glob("*/*") if p.is_file() and fnmatchcase(p.name, ERASURE_REQUEST_GLOB)
    )


def read_requests(raw_root: Path) -> list[ErasureRequest]:
    """Every request landed (a request ID repeated keeps its first row).

    Raises:
        ErasureRequestError: a missing column or a bad value, naming the file and line.
    """
    requests: dict[str, ErasureRequest] = {}
    for path in request_files(raw_root):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if missing := [
                c for c in ERASURE_REQUEST_COLUMNS if c not in (reader.fieldnames or [])
            ]:
                raise ErasureRequestError(f"{path}: missing columns {missing}")
            for line, row in enumerate(reader, start=2):
                request = _request(row, f"{path} line {line}")
                requests.setdefault(request.request_id, request)
    return list(requests.values())


def write_request(raw_root: Path, kind: str, value: str, now: datetime | None = None) -> str:
    """Land one request (``c360 forget``); returns its request ID, never echoes the value.

    Raises:
        ErasureRequestError: an unknown kind or a value that is no such identifier.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    request_id = f"er-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    row = {"request_id": request_id, "received_at": now.isoformat(), "kind": kind, "value": value}
    _request(row, f"c360 forget --{kind.replace('_', '-')}")  # validate before writing
    folder = Path(raw_root) / PRIVACY_FOLDER / now.strftime(DAY_FORMAT)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"erasure_requests_{request_id}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ERASURE_REQUEST_COLUMNS)
        writer.writeheader()
        writer.writerow(row)
    return request_id
