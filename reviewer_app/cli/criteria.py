from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.group("criteria")
def criteria_group() -> None:
    """Scoring schemes (criteria files)."""


@criteria_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Validate criteria files; print every problem; exit 1 if there is any.

    Texts not translated into a language of the application are warnings (its readers see the
    file's own words there), printed after "ok"; they do not fail the check."""
    from ..languages import LANGUAGES
    from ..scoring.scheme import SchemeError
    from ..scoring.scheme_parser import load_scheme_file

    failed = False
    for path in files:
        try:
            scheme = load_scheme_file(path)
        except SchemeError as exc:
            failed = True
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        click.echo(f"{path}: ok ({scheme.key}, {len(scheme.criteria)} criteria)")
        for lang in LANGUAGES:
            if lang not in scheme.languages:
                click.echo(
                    f"{path}: warning: no [translations.{lang}]; readers in {lang} see the "
                    f"texts in {scheme.language}",
                    err=True,
                )
        for where in scheme.untranslated():
            lang = where.split(":")[0]
            click.echo(
                f"{path}: warning: translations.{where.replace(': ', '.')} is missing; readers "
                f"in {lang} see it in {scheme.language}",
                err=True,
            )
    if failed:
        sys.exit(1)


def register(main: click.Group) -> None:
    main.add_command(criteria_group)
