"""Reading a scoring scheme from a TOML file and validating it whole.

Pure: standard library only. Every problem of a file is collected and reported together, each
with the file, the key and what is wrong, so a coordinator fixes a file in one pass.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import limits  # pure, like this package
from .columns import COMMENT_SUFFIX
from .comment_fields import read_comment_fields
from .scheme import (
    AGGREGATES,
    CRITERION_KEY,
    MAX_DECIMALS,
    RESERVED_KEYS,
    ConflictRules,
    CriterionSpec,
    Problem,
    Rules,
    Scale,
    Scheme,
    SchemeError,
)
from .scheme_translations import read_language, read_translations


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_scheme_file(path: str | Path) -> Scheme:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(limits.SCHEME_BYTES + 1)  # one byte more than allowed tells "too large"
    except FileNotFoundError:
        raise SchemeError([Problem(str(path), "", "file not found")]) from None
    except OSError as exc:  # a directory, no permission
        raise SchemeError([Problem(str(path), "", exc.strerror or str(exc))]) from None
    return parse_scheme_bytes(data, str(path))


def parse_scheme_bytes(data: bytes, source: str = "<scheme>") -> Scheme:
    """A scheme from a file's bytes: UTF-8 with or without BOM, at most ``limits.SCHEME_BYTES``."""
    if len(data) > limits.SCHEME_BYTES:
        raise SchemeError([Problem(source, "", _too_large())])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SchemeError([Problem(source, "", "not UTF-8 text")]) from None
    return parse_scheme(text, source)


def _too_large() -> str:
    return (
        f"the file is larger than {limits.SCHEME_BYTES / 1024 / 1024:g} MB; a scheme has a few KB"
    )


def parse_scheme(text: str, source: str = "<scheme>") -> Scheme:
    # tomllib reads nesting by recursion and dotted keys in quadratic memory: a small file of
    # '[' * 100000 or 'a.a.a…' would end in a RecursionError or exhaust the memory. The scan of
    # the text refuses both first, naming the line; the handlers below are the safety net.
    if len(text) > limits.SCHEME_BYTES:
        raise SchemeError([Problem(source, "", _too_large())])
    problem = _structure_problem(text)
    if problem is not None:
        raise SchemeError([Problem(source, "", problem)])
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError([Problem(source, "", f"not valid TOML: {exc}")]) from None
    except RecursionError:
        raise SchemeError([Problem(source, "", _nested_too_deeply(None))]) from None
    except ValueError:  # int() refuses more digits than sys.get_int_max_str_digits()
        raise SchemeError(
            [
                Problem(
                    source,
                    "",
                    f"not valid TOML: a number has more than {sys.get_int_max_str_digits()} digits",
                )
            ]
        ) from None
    return scheme_from_mapping(data, source)


# What the structure scan skips, so that brackets and dots in strings and comments do not count:
# multi-line and single-line strings, basic and literal, and comments.
_TOML_STRING_OR_COMMENT = re.compile(
    "|".join(
        (
            r'"""(?:\\.|[^\\])*?"""',  # multi-line basic string
            r"'''.*?'''",  # multi-line literal string
            r'"(?:\\.|[^"\\\n])*"',  # basic string
            r"'[^'\n]*'",  # literal string
            r"#[^\n]*",  # comment
        )
    ),
    re.DOTALL,
)
# A key of more than limits.NESTING dotted parts (each part bare, or a quoted one blanked).
_LONG_DOTTED_KEY = re.compile(
    rf'(?<![A-Za-z0-9_-])(?:(?:[A-Za-z0-9_-]++|"")[ \t]*+\.[ \t]*+){{{limits.NESTING},}}'
)


def _structure_problem(text: str) -> str | None:
    """Lists and tables nested, or keys dotted, deeper than ``limits.NESTING``, with the line."""

    def blank(match: re.Match[str]) -> str:
        token = match.group()
        newlines = "\n" * token.count("\n")  # kept, so that line numbers stay right
        return newlines if token.startswith("#") else '""' + newlines

    skeleton = _TOML_STRING_OR_COMMENT.sub(blank, text)
    dotted = _LONG_DOTTED_KEY.search(skeleton)
    if dotted is not None:
        line = skeleton.count("\n", 0, dotted.start()) + 1
        return f"line {line}: a key has more than {limits.NESTING} dotted parts"
    depth, line = 0, 1
    for match in re.finditer(r"[\[\]{}\n]", skeleton):
        token = match.group()
        if token == "\n":
            line += 1
        elif token in ("[", "{"):
            depth += 1
            if depth > limits.NESTING:
                return _nested_too_deeply(line)
        else:
            depth -= 1
    return None


def _nested_too_deeply(line: int | None) -> str:
    where = f"line {line}: " if line is not None else ""
    return f"{where}lists and tables nest more than {limits.NESTING} levels deep"


class _Checker:
    """Collects problems while reading values out of nested tables.

    ``limited``: the limits of ``limits`` apply (lengths, sizes, counts). A stored scheme was
    checked when its call was created, against the limits of that day: a limit added later must
    not lock a running call out of its own pages.
    """

    def __init__(self, source: str, *, limited: bool = True) -> None:
        self.source = source
        self.limited = limited
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, key, message))

    def unknown(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                hint = _closest(key, allowed)
                extra = f" (did you mean '{hint}'?)" if hint else ""
                self.add(f"{prefix}{limits.excerpt(key)}", f"unknown key{extra}")

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            self.add(where, "must be a table")
            return {}
        return value

    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool,
        max_length: int | None = None,
        default: str = "",
    ) -> str:
        """A string value; free text passes its limit from ``limits``, a key its own pattern."""
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
        if self.limited and max_length is not None and len(value) > max_length:
            self.add(where, f"at most {max_length} characters, got {len(value)}")
            return default
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool,
        default: Decimal | None = None,
        bounded: bool = True,
    ) -> Decimal | None:
        """A number with at most ``MAX_DECIMALS``; ``bounded``: also within
        ``limits.MAX_SCHEME_NUMBER`` (a number checked against a range of its own is not)."""
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
        if (
            bounded
            and self.limited
            and not -limits.MAX_SCHEME_NUMBER <= number <= limits.MAX_SCHEME_NUMBER
        ):
            self.add(
                where,
                f"must be between -{limits.MAX_SCHEME_NUMBER:,} and "
                f"{limits.MAX_SCHEME_NUMBER:,}, got {limits.excerpt(str(value))}",
            )
            return default
        if _decimals(number) > MAX_DECIMALS:
            self.add(
                where,
                f"at most {MAX_DECIMALS} decimals are supported, got {limits.excerpt(str(value))}",
            )
            return default
        return number

    def integer(
        self, data: Mapping[str, Any], key: str, where: str, *, default: int, low: int, high: int
    ) -> int:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"must be a whole number, not {_type_name(value)}")
            return default
        if value < low:
            bound = "must not be negative" if low == 0 else f"must be at least {low}"
            self.add(where, f"{bound}, got {limits.excerpt(str(value))}")
            return default
        if self.limited and value > high:
            self.add(where, f"must be at most {high}, got {limits.excerpt(str(value))}")
            return default
        return value

    def boolean(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.add(where, f"must be true or false, not {_type_name(value)}")
            return False
        return value


def scheme_from_mapping(
    data: Mapping[str, Any], source: str = "<scheme>", *, stored: bool = False
) -> Scheme:
    """Validate a parsed scheme; raise ``SchemeError`` listing every problem.

    ``stored``: the scheme of an existing call, whose file met the limits of its day (see
    ``_Checker``); the limits of ``limits`` then do not apply again.
    """
    check = _Checker(source, limited=not stored)
    check.unknown(
        data,
        {
            "key",
            "title",
            "description",
            "language",
            "scale",
            "rules",
            "conflicts",
            "criteria",
            "translations",
        },
        "",
    )
    key = check.text(data, "key", "key", required=True)
    if key and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", key):
        check.add("key", "use letters, digits, '-', '_' or '.', at most 64 characters")
    title = check.text(data, "title", "title", required=True, max_length=limits.SCHEME_TITLE)
    description = check.text(
        data,
        "description",
        "description",
        required=False,
        max_length=limits.SCHEME_DESCRIPTION,
    )

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
    language = read_language(check, data)
    translations = read_translations(
        check, data.get("translations"), language=language, scale=scale, criteria=criteria
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
        language=language,
        translations=translations,
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
    elif check.limited and high > low and (high - low) / step + 1 > limits.SCALE_VALUES:
        check.add(
            "scale.step",
            f"the scale {low} to {high} in steps of {step} has {(high - low) / step + 1:f} "
            f"values; at most {limits.SCALE_VALUES}",
        )
        ok = False
    labels: list[tuple[int, str]] = []
    raw_labels = table.get("labels", {})
    if not isinstance(raw_labels, Mapping):
        check.add("scale.labels", 'must be a table of score = "descriptor"')
    else:
        for name, text in raw_labels.items():
            where = f"scale.labels.{limits.excerpt(str(name))}"
            # Digits only, and few of them: int() of a 5,000-digit key would raise.
            if not re.fullmatch(r"[0-9]{1,7}", str(name)):
                check.add(where, "label keys must be whole scores such as 0, 1, 2")
                continue
            if not isinstance(text, str) or not text.strip():
                check.add(where, "must be a non-empty string")
                continue
            if check.limited and len(text) > limits.SCALE_LABEL:
                check.add(where, f"at most {limits.SCALE_LABEL} characters, got {len(text)}")
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
    if check.limited and len(raw) > limits.CRITERIA:
        check.add("criteria", f"at most {limits.CRITERIA} criteria, got {len(raw)}")
        return []
    seen: set[str] = set()
    criteria: list[CriterionSpec] = []
    for index, item in enumerate(raw, start=1):
        name = item.get("key") if isinstance(item.get("key"), str) else None
        prefix = f"criteria[{index}]" + (f" ({limits.excerpt(name)})" if name else "")
        check.unknown(
            item,
            {"key", "title", "question", "weight", "threshold", "comment_fields"},
            f"{prefix}.",
        )
        key = check.text(item, "key", f"{prefix}.key", required=True)
        if key:
            if not CRITERION_KEY.fullmatch(key):
                check.add(
                    f"{prefix}.key",
                    "use lowercase letters, digits and '_', starting "
                    "with a letter, at most 40 characters",
                )
            elif key in RESERVED_KEYS or key.endswith(COMMENT_SUFFIX):
                check.add(f"{prefix}.key", f"'{key}' is reserved for import and export columns")
            if key in seen:
                check.add(f"{prefix}.key", f"duplicate criterion key '{limits.excerpt(key)}'")
            seen.add(key)
        title = check.text(
            item, "title", f"{prefix}.title", required=True, max_length=limits.CRITERION_TITLE
        )
        question = check.text(
            item,
            "question",
            f"{prefix}.question",
            required=False,
            max_length=limits.CRITERION_QUESTION,
        )
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
                comment_fields=read_comment_fields(check, item, prefix),
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
        shown = limits.excerpt(repr(aggregate))
        check.add("rules.aggregate", f'must be "mean" or "median", got {shown}')
        aggregate = "mean"
    min_reviews = check.integer(
        table, "min_reviews", "rules.min_reviews", default=3, low=1, high=limits.MIN_REVIEWS
    )
    # Bounded by the range of the total instead (the scale times the number of criteria).
    overall = check.number(
        table, "overall_threshold", "rules.overall_threshold", required=False, bounded=False
    )
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
                check.add("rules.tie_break", f"'{limits.excerpt(key)}' is not a criterion key")
            elif key in tie_break:
                check.add("rules.tie_break", f"'{key}' is listed twice")
            else:
                tie_break.append(key)
    # No more than a comment may have, or no review could ever be submitted.
    comment_min = check.integer(
        table,
        "comment_min_chars",
        "rules.comment_min_chars",
        default=0,
        low=0,
        high=limits.COMMENT,
    )
    return Rules(
        aggregate=aggregate,
        min_reviews=min_reviews,
        overall_threshold=overall,
        disagreement_spread=spread,
        tie_break=tuple(tie_break),
        comment_min_chars=comment_min,
    )


def _decimals(number: Decimal) -> int:
    """How many decimals a finite number has, trailing zeros not counted (``1.50``: 1), read off
    its digits: rounding or normalising ``1e-999999999`` or ``1e999999999`` would raise."""
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    return max(0, -(exponent + len(digits) - len(significant)))


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
