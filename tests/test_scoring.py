"""The host's checks on what a container hands back, and its static checks on candidates."""

from __future__ import annotations

import pandas as pd
import pytest

from arctl import checks, scoring

IDS = pd.Index([3, 1, 2])


def csv(rows: str) -> bytes:
    return ("row_id,score\n" + rows).encode()


def test_valid_predictions_come_back_in_label_order():
    s = scoring.parse_predictions(csv("1,0.1\n2,0.2\n3,0.3\n"), IDS)
    assert list(s.index) == [3, 1, 2] and list(s["score"]) == [0.3, 0.1, 0.2]


@pytest.mark.parametrize("raw, why", [
    (csv("1,0.1\n2,0.2\n"), "wrong rows"),
    (csv("1,0.1\n2,0.2\n3,0.3\n4,0.4\n"), "wrong rows"),
    (csv("1,0.1\n1,0.2\n3,0.3\n"), "repeats"),
    (csv("1,0.1\n2,nan\n3,0.3\n"), "NaN or infinite"),
    (csv("1,0.1\n2,inf\n3,0.3\n"), "NaN or infinite"),
    (csv("1,0.1\n2,\n3,0.3\n"), "NaN or infinite"),
    (csv("1.5,0.1\n2,0.2\n3,0.3\n"), "not integers"),
    (csv("a,0.1\n2,0.2\n3,0.3\n"), "not integers"),
    (b"id,p\n1,0.1\n2,0.2\n3,0.3\n", "columns row_id,score"),
    (b"\x80\x81\x82", "readable CSV"),
    (b"", "readable CSV"),
])
def test_malformed_predictions_are_rejected(raw, why):
    with pytest.raises(scoring.InvalidPredictions, match=why):
        scoring.parse_predictions(raw, IDS)


def test_auc_is_computed_from_host_labels():
    labels = pd.Series([1, 0, 1], index=IDS)
    preds = scoring.parse_predictions(csv("1,0.85\n2,0.9\n3,0.8\n"), IDS)
    assert scoring.score("roc_auc", labels, preds) == 0.5


@pytest.mark.parametrize("source, why", [
    (b"def build_pipeline(:\n", "does not parse"),
    (b"def build_model():\n    pass\n", "does not define build_pipeline"),
    (b"x = 1\n" * 20000, "limit is"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_static_checks_reject(source, why):
    assert any(why in p for p in checks.static_problems(source))


def test_static_checks_accept_and_read_the_hypothesis():
    src = b'HYPOTHESIS = "try trees"\ndef build_pipeline():\n    return None\n'
    assert checks.static_problems(src) == []
    assert checks.hypothesis(src) == "try trees"


def test_prediction_formats_by_task_type():
    assert scoring.prediction_columns("binary") == ["score"]
    assert scoring.prediction_columns("multiclass", 3) == ["p0", "p1", "p2"]
    assert scoring.prediction_columns("regression") == ["value"]
    raw = b"row_id,p0,p1,p2\n1,0.2,0.3,0.5\n2,0.1,0.8,0.1\n3,1,0,0\n"
    frame = scoring.parse_predictions(raw, IDS, ["p0", "p1", "p2"], probabilities=True)
    assert frame.loc[3].tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(scoring.InvalidPredictions, match="columns row_id,p0,p1,p2"):
        scoring.parse_predictions(csv("1,0.1\n2,0.2\n3,0.3\n"), IDS, ["p0", "p1", "p2"])
    with pytest.raises(scoring.InvalidPredictions, match="outside"):
        scoring.parse_predictions(csv("1,0.1\n2,1.2\n3,0.3\n"), IDS, ["score"], probabilities=True)


@pytest.mark.parametrize("metric, y, p, expected", [
    ("rmse", [1.0, 2.0, 3.0], [[1.0], [2.0], [5.0]], (4 / 3) ** 0.5),
    ("mae", [1.0, 2.0, 3.0], [[1.0], [2.0], [5.0]], 2 / 3),
    ("r2", [1.0, 2.0, 3.0], [[1.0], [2.0], [3.0]], 1.0),
    ("accuracy", [0, 1, 1], [[0.2], [0.7], [0.4]], 2 / 3),
    ("balanced_accuracy", [0, 1, 2], [[0.9, 0.1, 0], [0.1, 0.8, 0.1], [0.5, 0.2, 0.3]], 2 / 3),
    ("log_loss", [0, 1], [[0.5], [0.5]], 0.6931471805599453),
])
def test_metrics_are_computed_by_the_host(metric, y, p, expected):
    labels = pd.Series(y, index=pd.Index(range(len(y))))
    preds = pd.DataFrame(p, index=labels.index)
    assert scoring.score(metric, labels, preds) == pytest.approx(expected)


def test_each_metric_declares_its_direction():
    assert [m for m, v in scoring.METRICS.items() if not v.greater_is_better] == ["log_loss", "rmse", "mae"]
