"""The base of every audit event and what reads them: ``AuditData`` (each event a frozen
dataclass with its ``action``), ``parse`` and ``label_of`` by action name. The events
themselves are in ``events.py`` (and ``account_events.py``), which every writer and reader
imports.
"""

from __future__ import annotations

import types
from dataclasses import MISSING, fields
from enum import Enum
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

CONFIDENTIAL = {"confidential": True}


class AuditData:
    """Base of every event. Subclasses are frozen dataclasses with an ``action``."""

    action: ClassVar[str]
    label: ClassVar[Any]  # what people read for the action (a lazy translation)
    # A read (a download) changes nothing: it is recorded, but a report made before and after
    # it describes the same state, so the chain head a report carries skips reads.
    is_read: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[AuditData]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        action = cls.__dict__.get("action")
        if action is not None:
            if action in AuditData.registry:
                raise TypeError(f"two audit events for {action!r}")
            if "label" not in cls.__dict__:
                raise TypeError(f"the audit event {action!r} has no label")
            AuditData.registry[action] = cls

    def to_data(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Self:
        hints = get_type_hints(cls)
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                values[f.name] = _typed(hints[f.name], data[f.name])
            elif f.default is MISSING and f.default_factory is MISSING:
                values[f.name] = None  # written before the field existed
        return cls(**values)

    @classmethod
    def confidential_fields(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls) if f.metadata.get("confidential"))  # type: ignore[arg-type]


def label_of(action: str) -> str:
    """What people read for ``action``, in the current language; the code itself for an action
    this version does not know."""
    kind = AuditData.registry.get(action)
    return str(kind.label) if kind is not None else action


def parse(action: str, data: dict[str, Any]) -> AuditData | None:
    """The typed event of a stored row, or None for an action this version does not know."""
    kind = AuditData.registry.get(action)
    return kind.from_data(data or {}) if kind is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        for option in get_args(hint):
            if option is not type(None):
                return _typed(option, value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


def read_actions() -> frozenset[str]:
    return frozenset(a for a, kind in AuditData.registry.items() if kind.is_read)
