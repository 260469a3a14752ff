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
    assert list(s.index) == [3, 1, 2] and list(s) == [0.3, 0.1, 0.2]


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
