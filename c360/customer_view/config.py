"""``conf/customer_view.yaml``: limits, key features, the server address and every label."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from c360.config import CONF_DIR
from c360.errors import ConfigurationError

CUSTOMER_VIEW_FILE = CONF_DIR / "customer_view.yaml"
LANGUAGES = ("en", "vi")
Language = Literal["en", "vi"]


class CustomerViewConfigError(ConfigurationError):
    """``conf/customer_view.yaml`` cannot be used; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8360, ge=1, le=65535)

    @field_validator("host")
    @classmethod
    def _loopback(cls, host: str) -> str:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("the customer view serves personal data: bind to loopback only")
        return host


class Label(_Section):
    en: str
    vi: str


class CustomerViewConfig(_Section):
    find_limit: int = Field(20, ge=1, le=500)
    timeline_page_size: int = Field(20, ge=1, le=500)
    refresh_seconds: float = Field(30.0, ge=0)
    key_features: tuple[str, ...] = ()
    server: ServerConfig = Field(default_factory=ServerConfig)
    labels: dict[str, Label] = Field(default_factory=dict)

    def label(self, key: str, language: Language = "en") -> str:
        """The label of ``key`` in ``language`` (the key itself when none is configured)."""
        label = self.labels.get(key)
        return getattr(label, language) if label else key


def load_customer_view_config(path: Path | None = None) -> CustomerViewConfig:
    """Parse and validate ``conf/customer_view.yaml`` (or ``path``).

    Raises:
        CustomerViewConfigError: missing file, not YAML, an unknown key or a bad value.
    """
    path = Path(path or CUSTOMER_VIEW_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise CustomerViewConfigError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise CustomerViewConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return CustomerViewConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise CustomerViewConfigError(f"{path}: {problems}") from None
