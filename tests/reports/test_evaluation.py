"""evaluation.json: the engine's input survives the round trip; the data is read in a constant
number of queries."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import event

from reviewer_app.extensions import db
from reviewer_app.ranking import rank_call, ranking_csv
from reviewer_app.reports.charts import DotRow, score_dots_chart
from reviewer_app.reports.decision import decision_report
from reviewer_app.reports.evaluation import (
    EvaluationFormatError,
    evaluation_in_from_json,
    evaluation_json,
    expert_pseudonyms,
)
from reviewer_app.reports.records import load_records
from reviewer_app.scoring.engine import evaluate

from .conftest import Scene, add_consensus, build_scene


def without_experts(ranking):  # type: ignore[no-untyped-def]
    """Rows with the expert ids dropped: the JSON uses pseudonyms, the database account ids."""
    return [
        dataclasses.replace(
            row,
            criteria=tuple(
                dataclasses.replace(c, given=tuple(("", v) for v in c.individual))
                for c in row.criteria
            ),
        )
        for row in ranking.rows
    ]


def test_round_trip_gives_the_same_ranking(consensus_scene: Scene) -> None:
    scene = consensus_scene
    add_consensus(scene, "P-003", {"compute": "4", "expertise": "4", "funding": "4"}, "ok")
    scene.rank()
    from_json = evaluate(evaluation_in_from_json(evaluation_json(scene.call)))
    from_db = rank_call(scene.call, with_scores=True)  # the JSON holds every score
    assert without_experts(from_json) == without_experts(from_db)
    assert ranking_csv(from_json) == ranking_csv(from_db)


def test_evaluation_json_is_stable(scene: Scene) -> None:
    assert evaluation_json(scene.call) == evaluation_json(scene.call)


@pytest.mark.parametrize(
    "bad", [b"{", b"[]", b'{"format": "other"}', b'{"format": "reviewer-app/evaluation/1"}']
)
def test_malformed_evaluation_json(bad: bytes) -> None:
    with pytest.raises(EvaluationFormatError):
        evaluation_in_from_json(bad)


@pytest.mark.parametrize(
    "panel",
    [None, [], "x", {"places": {}}, {"places": [{"proposal": "P-001", "place": 1.7}]},
     {"places": [{"proposal": "P-001", "place": True}]}, {"places": [{"place": 1}]}],
)  # fmt: skip
def test_a_malformed_panel_is_refused_not_a_traceback(scene: Scene, panel: object) -> None:
    document = json.loads(evaluation_json(scene.call))
    document["panel"] = panel
    with pytest.raises(EvaluationFormatError):
        evaluation_in_from_json(json.dumps(document))


def test_pseudonyms_follow_account_order() -> None:
    assert expert_pseudonyms(["10", "9", "2", "9"]) == {"2": "E01", "9": "E02", "10": "E03"}


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def test_report_data_takes_a_constant_number_of_queries(scene: Scene) -> None:
    db.session.expire_all()
    with count_queries() as small:
        decision_report(load_records(scene.call), "en")

    # Triple the call: more proposals, experts and reviews, the same number of queries.
    larger = build_scene(key="aif-larger", extra=10)
    db.session.expire_all()
    with count_queries() as large:
        report = decision_report(load_records(larger.call), "en")
    assert len(report.rows) == 15
    assert len(large) == len(small)


def test_chart_labels_are_escaped_and_output_is_deterministic() -> None:
    rows = [
        DotRow(
            label="<script>x</script>",
            values=(Decimal("3"), Decimal("3")),
            score=None,
            threshold=Decimal("3"),
        )
    ]
    kwargs = {
        "scale_min": Decimal(0),
        "scale_max": Decimal(5),
        "step": Decimal("0.5"),
        "tick_text": str,
        "score_text": str,
    }
    svg = score_dots_chart(rows, **kwargs)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg == score_dots_chart(rows, **kwargs)
    assert svg.count("<circle") == 2
