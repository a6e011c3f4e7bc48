"""``conf/sql_endpoint.yaml``, validated at load."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from c360.config import CONF_DIR
from c360.errors import ConfigurationError

SQL_ENDPOINT_FILE = CONF_DIR / "sql_endpoint.yaml"
HOST = "127.0.0.1"  # never another interface: BI clients elsewhere use an SSH tunnel


class SqlEndpointSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    port: int = Field(10000, ge=1024, le=65535)
    driver_memory: str = Field("1g", pattern=r"^\d+[kmg]$")
    poll_seconds: float = Field(5, gt=0)
    start_timeout_seconds: float = Field(180, gt=0)
    layers: tuple[str, ...] = ("silver", "gold")


def load_sql_settings(path: Path | None = None) -> SqlEndpointSettings:
    """Raises ConfigurationError naming the key when the file does not validate."""
    path = Path(path or SQL_ENDPOINT_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return SqlEndpointSettings.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"{path}: {problems}") from None


def ready_file(root: Path) -> Path:
    """Written by the server (its pid) once the Thrift service has started."""
    return root / "_sql" / "ready"
