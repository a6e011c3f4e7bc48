"""``c360 serve``: the read-only web page of the customer view (FastAPI + Jinja2, no build step).

Search, profile, explanation and paging are POST forms, so no customer identifier ever lands in
a URL, a browser history or the access log (the log line keeps the path only). Segment pages
(GET) show counts, never members. Labels in English or Vietnamese (``lang``: en | vi).
The app reads the lakehouse; it never writes.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from c360.customer_view.config import LANGUAGES, CustomerViewConfig, Language
from c360.customer_view.explanation import explain_customer
from c360.customer_view.lookup import find_customers
from c360.customer_view.profile import CustomerNotFound, customer_profile
from c360.customer_view.store import ViewStore
from c360.tables import GOLD_SEGMENT_MEMBERS

TEMPLATES = Path(__file__).with_name("templates")


class PathOnlyAccessLog(logging.Filter):
    """Drops the query string from uvicorn's access-log lines (the path is all they keep)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


def _language(value: str | None) -> Language:
    return value if value in LANGUAGES else "en"  # type: ignore[return-value]


def segment_counts(store: ViewStore) -> list[dict[str, Any]]:
    """Members (and entrants) of every segment per snapshot day, newest day first."""
    if not store.exists(GOLD_SEGMENT_MEMBERS):
        return []
    members = store.rows(GOLD_SEGMENT_MEMBERS, None, ["segment", "as_of_date", "entered"])
    grouped = members.group_by(["segment", "as_of_date"]).aggregate(
        [("segment", "count"), ("entered", "sum")]
    )
    rows = [
        {"segment": r["segment"], "as_of_date": r["as_of_date"].isoformat(),
         "members": r["segment_count"], "entered": int(r["entered_sum"] or 0)}
        for r in grouped.to_pylist()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (r["segment"], r["as_of_date"]), reverse=False)


def create_app(root: Path, config: CustomerViewConfig) -> FastAPI:
    """The web app over the lakehouse at ``root``."""
    app = FastAPI(
        title="c360 customer view", docs_url=None, redoc_url=None, openapi_url=None,
        # FastAPI's OpenTelemetry hooks off: no request data leaves the process, whatever the
        # OTEL_* environment says
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )  # fmt: skip
    templates = Jinja2Templates(directory=str(TEMPLATES))
    store = ViewStore(root, config.refresh_seconds)

    def page(request: Request, template: str, lang: str | None, **context: Any) -> HTMLResponse:
        language = _language(lang)

        def t(key: str) -> str:
            return config.label(key, language)

        return templates.TemplateResponse(
            request, template, {"t": t, "lang": language, "languages": LANGUAGES, **context}
        )

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, lang: str | None = None) -> HTMLResponse:
        return page(request, "search.html", lang, query="", matches=None)

    @app.post("/search", response_class=HTMLResponse)
    def search(request: Request, q: str = Form(""), lang: str = Form("en")) -> HTMLResponse:
        matches = [m.as_dict() for m in find_customers(store, q, config.find_limit)]
        return page(request, "search.html", lang, query=q, matches=matches)

    @app.post("/profile", response_class=HTMLResponse)
    def profile(
        request: Request, customer_id: str = Form(...), page_number: int = Form(1),
        lang: str = Form("en"),
    ) -> HTMLResponse:  # fmt: skip
        try:
            data = customer_profile(store, customer_id, config, page_number)
        except CustomerNotFound as exc:
            return page(request, "missing.html", lang, message=str(exc))
        return page(request, "profile.html", lang, p=data, keys=config.key_features)

    @app.post("/explain", response_class=HTMLResponse)
    def explain(
        request: Request, customer_id: str = Form(...), lang: str = Form("en")
    ) -> HTMLResponse:
        return page(request, "explain.html", lang, e=explain_customer(store, customer_id))

    @app.get("/segments", response_class=HTMLResponse)
    def segments(request: Request, lang: str | None = None) -> HTMLResponse:
        counts = segment_counts(store)
        latest: dict[str, dict[str, Any]] = {}
        for row in counts:
            latest[row["segment"]] = row
        return page(request, "segments.html", lang, segments=list(latest.values()))

    @app.get("/segments/{name}", response_class=HTMLResponse)
    def segment(request: Request, name: str, lang: str | None = None) -> HTMLResponse:
        rows = [r for r in segment_counts(store) if r["segment"] == name]
        return page(request, "segment.html", lang, segment_name=name, rows=rows[::-1])

    return app


def access_log_config() -> dict[str, Any]:
    """uvicorn's logging config with :class:`PathOnlyAccessLog` on the access logger (so every
    handler, uvicorn's or an operator's, sees paths without query strings)."""
    from uvicorn.config import LOGGING_CONFIG

    config = {**LOGGING_CONFIG, "filters": {"path_only": {"()": PathOnlyAccessLog}}}
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "uvicorn.access": {**LOGGING_CONFIG["loggers"]["uvicorn.access"], "filters": ["path_only"]},
    }
    return config


def build_server(root: Path, config: CustomerViewConfig, host: str, port: int) -> Any:
    """A uvicorn server for the app (``.run()`` serves until interrupted)."""
    import uvicorn

    app = create_app(root, config)
    settings = uvicorn.Config(
        app, host=host, port=port, log_config=access_log_config(), access_log=True
    )
    return uvicorn.Server(settings)


@contextmanager
def running_server(root: Path, config: CustomerViewConfig) -> Iterator[str]:
    """A server on a free loopback port in a background thread (tests, benchmarks); yields its
    base URL once it answers, and stops and joins it on exit."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = build_server(root, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the customer view server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
