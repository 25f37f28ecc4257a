"""Scoring schemes: the criteria of a call, read from a TOML file and validated whole.

Pure: standard library only. Every problem of a file is collected and reported together, each
with the file, the key and what is wrong, so a coordinator fixes a file in one pass.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

Aggregate = Literal["mean", "median"]
AGGREGATES: tuple[Aggregate, ...] = ("mean", "median")

# Criterion keys become CSV columns (``compute``, ``compute_comment``), so they stay simple and
# must not collide with the fixed columns of the imports and exports.
CRITERION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_KEYS = frozenset(
    {
        "proposal",
        "expert",
        "rank",
        "reference",
        "title",
        "reviews",
        "total",
        "weighted_total",
        "status",
        "flags",
        "requested_funding_eur",
        "cumulative_funding_eur",
    }
)
MAX_DECIMALS = 2  # scores and weights are stored as integer hundredths


@dataclass(frozen=True)
class Problem:
    source: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.message}" if self.key else f"{where}{self.message}"


class SchemeError(ValueError):
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
class CriterionSpec:
    key: str
    title: str
    question: str = ""
    weight: Decimal = Decimal(1)
    threshold: Decimal | None = None


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
class Scheme:
    key: str
    title: str
    scale: Scale
    rules: Rules
    criteria: tuple[CriterionSpec, ...]
    description: str = ""
    conflicts: ConflictRules = field(default_factory=ConflictRules)

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
            data["criteria"].append(item)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "stored scheme") -> Scheme:
        return scheme_from_mapping(_decimal_strings(data), source)


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


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_scheme_file(path: str | Path) -> Scheme:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemeError([Problem(str(path), "", "file not found")]) from None
    except UnicodeDecodeError:
        raise SchemeError([Problem(str(path), "", "not UTF-8 text")]) from None
    return parse_scheme(text, str(path))


def parse_scheme(text: str, source: str = "<scheme>") -> Scheme:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError([Problem(source, "", f"not valid TOML: {exc}")]) from None
    return scheme_from_mapping(data, source)


class _Checker:
    """Collects problems while reading values out of nested tables."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, key, message))

    def unknown(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                hint = _closest(key, allowed)
                extra = f" (did you mean '{hint}'?)" if hint else ""
                self.add(f"{prefix}{key}", f"unknown key{extra}")

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            self.add(where, "must be a table")
            return {}
        return value

    def text(
        self, data: Mapping[str, Any], key: str, where: str, *, required: bool, default: str = ""
    ) -> str:
        if key not in data:
            if required:
                self.add(where, "is missing")
            return default
        value = data[key]
        if not isinstance(value, str):
            self.add(where, f"must be a string, not {_type_name(value)}")
            return default
        if required and not value.strip():
            self.add(where, "must not be empty")
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool,
        default: Decimal | None = None,
    ) -> Decimal | None:
        if key not in data:
            if required:
                self.add(where, "is missing")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            self.add(where, f"must be a number, not {_type_name(value)}")
            return default
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            self.add(where, "must be a finite number")
            return default
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
            self.add(where, f"at most {MAX_DECIMALS} decimals are supported, got {value}")
            return default
        return number

    def integer(self, data: Mapping[str, Any], key: str, where: str, *, default: int) -> int:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"must be a whole number, not {_type_name(value)}")
            return default
        return value

    def boolean(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.add(where, f"must be true or false, not {_type_name(value)}")
            return False
        return value


def scheme_from_mapping(data: Mapping[str, Any], source: str = "<scheme>") -> Scheme:
    """Validate a parsed scheme; raise ``SchemeError`` listing every problem."""
    check = _Checker(source)
    check.unknown(
        data, {"key", "title", "description", "scale", "rules", "conflicts", "criteria"}, ""
    )
    key = check.text(data, "key", "key", required=True)
    if key and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", key):
        check.add("key", "use letters, digits, '-', '_' or '.', at most 64 characters")
    title = check.text(data, "title", "title", required=True)
    description = check.text(data, "description", "description", required=False)

    scale = _read_scale(check, check.table(data, "scale", "scale"))
    criteria = _read_criteria(check, data.get("criteria"), scale)
    rules = _read_rules(check, check.table(data, "rules", "rules"), scale, criteria)
    conflicts_table = check.table(data, "conflicts", "conflicts")
    check.unknown(conflicts_table, {"same_country", "same_organisation"}, "conflicts.")
    conflicts = ConflictRules(
        same_country=check.boolean(conflicts_table, "same_country", "conflicts.same_country"),
        same_organisation=check.boolean(
            conflicts_table, "same_organisation", "conflicts.same_organisation"
        ),
    )
    if check.problems or scale is None:
        raise SchemeError(check.problems)
    return Scheme(
        key=key,
        title=title,
        description=description,
        scale=scale,
        rules=rules,
        criteria=tuple(criteria),
        conflicts=conflicts,
    )


def _read_scale(check: _Checker, table: Mapping[str, Any]) -> Scale | None:
    if not table:
        check.add("scale", "is missing (min, max and step)")
        return None
    check.unknown(table, {"min", "max", "step", "labels"}, "scale.")
    low = check.number(table, "min", "scale.min", required=True)
    high = check.number(table, "max", "scale.max", required=True)
    step = check.number(table, "step", "scale.step", required=False, default=Decimal(1))
    if low is None or high is None or step is None:
        return None
    ok = True
    if low < 0:
        check.add("scale.min", f"must be 0 or more, got {low}")
        ok = False
    if high <= low:
        check.add("scale.max", f"must be greater than scale.min ({low}), got {high}")
        ok = False
    if step <= 0:
        check.add("scale.step", f"must be greater than 0, got {step}")
        ok = False
    elif high > low and (high - low) % step != 0:
        check.add("scale.step", f"{step} does not divide the range {low} to {high} evenly")
        ok = False
    labels: list[tuple[int, str]] = []
    raw_labels = table.get("labels", {})
    if not isinstance(raw_labels, Mapping):
        check.add("scale.labels", 'must be a table of score = "descriptor"')
    else:
        for name, text in raw_labels.items():
            where = f"scale.labels.{name}"
            if not re.fullmatch(r"\d+", str(name)):
                check.add(where, "label keys must be whole scores such as 0, 1, 2")
                continue
            if not isinstance(text, str) or not text.strip():
                check.add(where, "must be a non-empty string")
                continue
            if not (low <= int(name) <= high):
                check.add(where, f"score {name} is off the scale {low} to {high}")
                continue
            labels.append((int(name), text))
    if not ok:
        return None
    return Scale(min=low, max=high, step=step, labels=tuple(sorted(labels)))


def _read_criteria(check: _Checker, raw: Any, scale: Scale | None) -> list[CriterionSpec]:
    if raw is None:
        check.add("criteria", "is missing: add at least one [[criteria]] table")
        return []
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        check.add("criteria", "must be a list of [[criteria]] tables")
        return []
    if not raw:
        check.add("criteria", "needs at least one criterion")
    seen: set[str] = set()
    criteria: list[CriterionSpec] = []
    for index, item in enumerate(raw, start=1):
        name = item.get("key") if isinstance(item.get("key"), str) else None
        prefix = f"criteria[{index}]" + (f" ({name})" if name else "")
        check.unknown(item, {"key", "title", "question", "weight", "threshold"}, f"{prefix}.")
        key = check.text(item, "key", f"{prefix}.key", required=True)
        if key:
            if not CRITERION_KEY.fullmatch(key):
                check.add(
                    f"{prefix}.key",
                    "use lowercase letters, digits and '_', starting "
                    "with a letter, at most 40 characters",
                )
            elif key in RESERVED_KEYS or key.endswith("_comment"):
                check.add(f"{prefix}.key", f"'{key}' is reserved for import and export columns")
            if key in seen:
                check.add(f"{prefix}.key", f"duplicate criterion key '{key}'")
            seen.add(key)
        title = check.text(item, "title", f"{prefix}.title", required=True)
        question = check.text(item, "question", f"{prefix}.question", required=False)
        weight = check.number(
            item, "weight", f"{prefix}.weight", required=False, default=Decimal(1)
        )
        if weight is not None and weight < 0:
            check.add(f"{prefix}.weight", f"must not be negative, got {weight}")
        threshold = check.number(item, "threshold", f"{prefix}.threshold", required=False)
        if (
            threshold is not None
            and scale is not None
            and not (scale.min <= threshold <= scale.max)
        ):
            check.add(
                f"{prefix}.threshold", f"{threshold} is off the scale {scale.min} to {scale.max}"
            )
        criteria.append(
            CriterionSpec(
                key=key,
                title=title,
                question=question,
                weight=weight if weight is not None else Decimal(1),
                threshold=threshold,
            )
        )
    return criteria


def _read_rules(
    check: _Checker, table: Mapping[str, Any], scale: Scale | None, criteria: list[CriterionSpec]
) -> Rules:
    check.unknown(
        table,
        {
            "aggregate",
            "min_reviews",
            "overall_threshold",
            "disagreement_spread",
            "tie_break",
            "comment_min_chars",
        },
        "rules.",
    )
    aggregate = table.get("aggregate", "mean")
    if aggregate not in AGGREGATES:
        check.add("rules.aggregate", f'must be "mean" or "median", got {aggregate!r}')
        aggregate = "mean"
    min_reviews = check.integer(table, "min_reviews", "rules.min_reviews", default=3)
    if min_reviews < 1:
        check.add("rules.min_reviews", f"must be at least 1, got {min_reviews}")
    overall = check.number(table, "overall_threshold", "rules.overall_threshold", required=False)
    if overall is not None and scale is not None and criteria:
        low, high = scale.min * len(criteria), scale.max * len(criteria)
        if not (low <= overall <= high):
            check.add(
                "rules.overall_threshold",
                f"{overall} is off the range of the total, {low} to {high}",
            )
    spread = check.number(table, "disagreement_spread", "rules.disagreement_spread", required=False)
    if spread is not None and spread <= 0:
        check.add("rules.disagreement_spread", f"must be greater than 0, got {spread}")
    tie_break: list[str] = []
    raw_tie = table.get("tie_break", [])
    if not isinstance(raw_tie, list) or not all(isinstance(k, str) for k in raw_tie):
        check.add("rules.tie_break", "must be a list of criterion keys")
    else:
        known = {c.key for c in criteria}
        for key in raw_tie:
            if key not in known:
                check.add("rules.tie_break", f"'{key}' is not a criterion key")
            elif key in tie_break:
                check.add("rules.tie_break", f"'{key}' is listed twice")
            else:
                tie_break.append(key)
    comment_min = check.integer(table, "comment_min_chars", "rules.comment_min_chars", default=0)
    if comment_min < 0:
        check.add("rules.comment_min_chars", f"must not be negative, got {comment_min}")
    return Rules(
        aggregate=aggregate,
        min_reviews=min_reviews,
        overall_threshold=overall,
        disagreement_spread=spread,
        tie_break=tuple(tie_break),
        comment_min_chars=comment_min,
    )


def _type_name(value: Any) -> str:
    return {
        bool: "true/false",
        str: "a string",
        int: "a number",
        Decimal: "a number",
        float: "a number",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _closest(word: str, options: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.75)
    return matches[0] if matches else None
