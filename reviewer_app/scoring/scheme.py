"""Scoring schemes: the criteria of a call, their scale and rules, as frozen values.

Pure: standard library only. Reading and validating a criteria file is in ``scheme_parser``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from ..errors import DomainError  # pure, like this package
from ..languages import DEFAULT_LANGUAGE  # pure, like this package
from .columns import RESERVED

Aggregate = Literal["mean", "median"]
AGGREGATES: tuple[Aggregate, ...] = ("mean", "median")

# Criterion keys become CSV columns (``compute``, ``compute_comment``), so they stay simple and
# must not collide with the fixed columns of the imports and exports.
CRITERION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_KEYS = RESERVED  # the fixed columns of the imports and exports (columns.py)
MAX_DECIMALS = 2  # scores and weights are stored as integer hundredths


@dataclass(frozen=True)
class Problem:
    source: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.message}" if self.key else f"{where}{self.message}"


class SchemeError(DomainError, ValueError):
    """A scheme file has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Scale:
    min: Decimal
    max: Decimal
    step: Decimal
    labels: tuple[tuple[int, str], ...] = ()

    def values(self) -> tuple[Decimal, ...]:
        count = int((self.max - self.min) / self.step)
        return tuple(self.min + self.step * i for i in range(count + 1))

    def contains(self, value: Decimal) -> bool:
        if not (self.min <= value <= self.max):
            return False
        return (value - self.min) % self.step == 0

    def label_for(self, value: Decimal) -> str | None:
        return dict(self.labels).get(int(value)) if value == int(value) else None


@dataclass(frozen=True)
class CommentField:
    """One of a criterion's comment boxes, when the form asks for more than one (the EU's
    "strengths" and "weaknesses"), with its own minimum length."""

    key: str
    label: str
    min_chars: int = 0


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    title: str
    question: str = ""
    weight: Decimal = Decimal(1)
    threshold: Decimal | None = None
    # Empty: one comment box, whose minimum is rules.comment_min_chars.
    comment_fields: tuple[CommentField, ...] = ()


@dataclass(frozen=True)
class Rules:
    aggregate: Aggregate = "mean"
    min_reviews: int = 3
    overall_threshold: Decimal | None = None
    disagreement_spread: Decimal | None = None
    tie_break: tuple[str, ...] = ()
    comment_min_chars: int = 0


@dataclass(frozen=True)
class ConflictRules:
    same_country: bool = False
    same_organisation: bool = False


@dataclass(frozen=True)
class CriterionText:
    """A criterion's words in one more language (None: not translated, the default is read)."""

    title: str | None = None
    question: str | None = None
    comment_fields: tuple[tuple[str, str], ...] = ()  # (field key, label)


@dataclass(frozen=True)
class SchemeText:
    """A scheme's words in one more language: only text, never a number or a rule, so every
    language ranks the same. What is missing falls back to the scheme's own language."""

    title: str | None = None
    description: str | None = None
    scale_labels: tuple[tuple[int, str], ...] = ()
    criteria: tuple[tuple[str, CriterionText], ...] = ()


@dataclass(frozen=True)
class Scheme:
    key: str
    title: str
    scale: Scale
    rules: Rules
    criteria: tuple[CriterionSpec, ...]
    description: str = ""
    conflicts: ConflictRules = field(default_factory=ConflictRules)
    language: str = DEFAULT_LANGUAGE  # the language of the texts above
    translations: tuple[tuple[str, SchemeText], ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        """The scheme's own language, then those it is translated into."""
        return (self.language, *(lang for lang, _text in self.translations))

    @cached_property
    def _in_languages(self) -> dict[str, Scheme]:
        # Not a field: kept on the instance, outside equality and hashing. A report asks once
        # per proposal section; the scheme in a language is made once.
        return {}

    def in_language(self, language: str) -> Scheme:
        """The scheme with its texts in ``language`` where it has them (a regional language,
        ``de_AT``, takes ``de``), its own language elsewhere; numbers and rules unchanged."""
        if not self.translations:
            return self
        made = self._in_languages.get(language)
        if made is None:
            made = self._in_languages[language] = self._translated(language)
        return made

    def _translated(self, language: str) -> Scheme:
        found = dict(self.translations)
        text = found.get(language) or found.get(language.split("_")[0].split("-")[0])
        if text is None:
            return self
        criteria_text = dict(text.criteria)
        criteria = []
        for c in self.criteria:
            words = criteria_text.get(c.key, CriterionText())
            field_labels = dict(words.comment_fields)
            criteria.append(
                replace(
                    c,
                    title=words.title or c.title,
                    question=words.question or c.question,
                    comment_fields=tuple(
                        replace(f, label=field_labels.get(f.key) or f.label)
                        for f in c.comment_fields
                    ),
                )
            )
        labels = dict(self.scale.labels) | dict(text.scale_labels)
        return replace(
            self,
            title=text.title or self.title,
            description=text.description or self.description,
            scale=replace(self.scale, labels=tuple(sorted(labels.items()))),
            criteria=tuple(criteria),
        )

    def untranslated(self) -> list[str]:
        """Each text with no translation in a language the scheme offers, as ``language:
        where`` (the readers of that language see the scheme's own words there)."""
        missing = []
        for lang, text in self.translations:
            if self.title and not text.title:
                missing.append(f"{lang}: title")
            if self.description and not text.description:
                missing.append(f"{lang}: description")
            have = dict(text.scale_labels)
            missing += [f"{lang}: scale.labels.{v}" for v, _t in self.scale.labels if v not in have]
            words = dict(text.criteria)
            for c in self.criteria:
                w = words.get(c.key, CriterionText())
                if not w.title:
                    missing.append(f"{lang}: criteria.{c.key}.title")
                if c.question and not w.question:
                    missing.append(f"{lang}: criteria.{c.key}.question")
                translated = dict(w.comment_fields)
                missing += [
                    f"{lang}: criteria.{c.key}.comment_fields.{f.key}"
                    for f in c.comment_fields
                    if f.key not in translated
                ]
        return missing

    def criterion(self, key: str) -> CriterionSpec:
        for criterion in self.criteria:
            if criterion.key == key:
                return criterion
        raise KeyError(key)

    @property
    def criterion_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.criteria)

    def to_json(self) -> dict[str, Any]:
        """The scheme in the file's own shape, numbers as decimal strings (JSON has no decimals)."""
        data: dict[str, Any] = {
            "key": self.key,
            "title": self.title,
            "scale": {
                "min": str(self.scale.min),
                "max": str(self.scale.max),
                "step": str(self.scale.step),
                "labels": {str(k): v for k, v in self.scale.labels},
            },
            "rules": {
                "aggregate": self.rules.aggregate,
                "min_reviews": self.rules.min_reviews,
                "tie_break": list(self.rules.tie_break),
                "comment_min_chars": self.rules.comment_min_chars,
            },
            "conflicts": {
                "same_country": self.conflicts.same_country,
                "same_organisation": self.conflicts.same_organisation,
            },
            "criteria": [],
        }
        if self.description:
            data["description"] = self.description
        if self.rules.overall_threshold is not None:
            data["rules"]["overall_threshold"] = str(self.rules.overall_threshold)
        if self.rules.disagreement_spread is not None:
            data["rules"]["disagreement_spread"] = str(self.rules.disagreement_spread)
        for c in self.criteria:
            item: dict[str, Any] = {
                "key": c.key,
                "title": c.title,
                "question": c.question,
                "weight": str(c.weight),
            }
            if c.threshold is not None:
                item["threshold"] = str(c.threshold)
            if c.comment_fields:
                item["comment_fields"] = [
                    {"key": f.key, "label": f.label, "min_chars": f.min_chars}
                    for f in c.comment_fields
                ]
            data["criteria"].append(item)
        if self.language != DEFAULT_LANGUAGE:
            data["language"] = self.language
        if self.translations:
            data["translations"] = {lang: text_json(text) for lang, text in self.translations}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "stored scheme") -> Scheme:
        # The reader validates what it builds; imported here, as it imports this module.
        from .scheme_parser import scheme_from_mapping

        return scheme_from_mapping(_decimal_strings(data), source, stored=True)


def text_json(text: SchemeText) -> dict[str, Any]:
    """One language's texts in the file's own shape (``[translations.<language>]``)."""
    data: dict[str, Any] = {}
    if text.title:
        data["title"] = text.title
    if text.description:
        data["description"] = text.description
    if text.scale_labels:
        data["scale"] = {"labels": {str(k): v for k, v in text.scale_labels}}
    criteria = {}
    for key, words in text.criteria:
        item: dict[str, Any] = {}
        if words.title:
            item["title"] = words.title
        if words.question:
            item["question"] = words.question
        if words.comment_fields:
            item["comment_fields"] = dict(words.comment_fields)
        if item:
            criteria[key] = item
    if criteria:
        data["criteria"] = criteria
    return data


def _decimal_strings(data: Mapping[str, Any]) -> dict[str, Any]:
    def num(value: Any) -> Any:
        return Decimal(value) if isinstance(value, str) else value

    out = dict(data)
    scale = dict(out.get("scale", {}))
    for k in ("min", "max", "step"):
        if k in scale:
            scale[k] = num(scale[k])
    out["scale"] = scale
    rules = dict(out.get("rules", {}))
    for k in ("overall_threshold", "disagreement_spread"):
        if k in rules:
            rules[k] = num(rules[k])
    out["rules"] = rules
    criteria = []
    for c in out.get("criteria", []):
        c = dict(c)
        for k in ("weight", "threshold"):
            if k in c:
                c[k] = num(c[k])
        criteria.append(c)
    out["criteria"] = criteria
    return out
