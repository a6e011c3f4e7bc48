"""Vocabularies of the interaction sources (``conf/interactions.yaml``, issue 20).

Engagement messages (channel, event) and service contacts (kind, direction, category,
outcome): what silver accepts, the spellings it maps, and which ticket outcomes are unresolved.
Validated with pydantic when loaded; a bad file raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from c360.config import CONF_DIR, ConfigError, read_yaml_rules, validation_message

INTERACTIONS_FILE = CONF_DIR / "interactions.yaml"


def _listed(values: tuple[str, ...], aliases: dict[str, str], name: str) -> None:
    """Aliases of ``name`` must map to a listed value."""
    unknown = sorted({v for v in aliases.values() if v not in values})
    if unknown:
        raise ValueError(f"aliases.{name}: {unknown} not in the listed values {list(values)}")


class EngagementVocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: tuple[str, ...] = Field(min_length=1)
    events: tuple[str, ...] = Field(min_length=1)
    aliases: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _aliases_listed(self) -> EngagementVocabulary:
        for name, values in (("channel", self.channels), ("event", self.events)):
            _listed(values, self.aliases.get(name, {}), name)
        if extra := set(self.aliases) - {"channel", "event"}:
            raise ValueError(f"aliases: unknown columns {sorted(extra)} (channel, event)")
        return self


class SatisfactionScale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int
    max: int


class ServiceVocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: tuple[str, ...] = Field(min_length=1)
    directions: tuple[str, ...] = Field(min_length=1)
    categories: tuple[str, ...] = Field(min_length=1)
    outcomes: tuple[str, ...] = Field(min_length=1)
    unresolved_outcomes: tuple[str, ...] = ()
    satisfaction: SatisfactionScale
    aliases: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _aliases_listed(self) -> ServiceVocabulary:
        listed = {
            "kind": self.kinds,
            "direction": self.directions,
            "category": self.categories,
            "outcome": self.outcomes,
        }
        if extra := set(self.aliases) - set(listed):
            raise ValueError(f"aliases: unknown columns {sorted(extra)} ({', '.join(listed)})")
        for name, values in listed.items():
            _listed(values, self.aliases.get(name, {}), name)
        if not set(self.unresolved_outcomes) <= set(self.outcomes):
            raise ValueError("unresolved_outcomes: every value must be one of outcomes")
        return self

    def vocabulary(self, column: str) -> tuple[str, ...]:
        """The listed values of one service column (kind, direction, category, outcome)."""
        return {
            "kind": self.kinds,
            "direction": self.directions,
            "category": self.categories,
            "outcome": self.outcomes,
        }[column]


class InteractionVocabularies(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    engagement: EngagementVocabulary
    service: ServiceVocabulary


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> InteractionVocabularies:
    try:
        return InteractionVocabularies.model_validate(read_yaml_rules(path))
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, path, "interaction vocabularies")) from None


def load_vocabularies(path: Path | None = None) -> InteractionVocabularies:
    """The validated vocabularies (default ``conf/interactions.yaml``).

    Raises:
        ConfigError: the file is unreadable or a key is wrong (named in the message).
    """
    return _load(Path(path or INTERACTIONS_FILE))
