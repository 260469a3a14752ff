"""Task preparation on the real heart data: split, fold plan, sealing, cache."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from arctl import paths, prepare, tasks
from arctl.errors import ArctlError

from conftest import HEART_DATA


def test_split_sizes_and_fold_plan(heart_task):
    assert (heart_task.n_train, heart_task.n_test) == (242, 61)
    plan = json.loads((heart_task.root / "fold_plan.json").read_text())
    validation = [i for ids in plan.values() for i in ids]
    assert len(validation) == len(set(validation)) == 242  # every training row validated exactly once


def test_prediction_rows_carry_no_labels(heart_task):
    for job in [*heart_task.fold_jobs, prepare.TEST_JOB]:
        d = heart_task.job_dir(job)
        predict = pd.read_csv(d / "predict.csv")
        train = pd.read_csv(d / "train.csv")
        assert prepare.TARGET not in predict.columns and "num" not in predict.columns
        assert prepare.ROW_ID not in train.columns
        assert sorted(predict[prepare.ROW_ID]) == sorted(heart_task.labels(job).index)
        assert len(train) + len(predict) == (242 if job != prepare.TEST_JOB else 303)


def test_test_labels_are_sealed_outside_the_task_and_any_workspace(heart_task, tmp_path):
    sealed = heart_task.sealed / "test_labels.csv"
    assert sealed.is_file()
    assert heart_task.root not in sealed.parents
    assert not list(heart_task.root.rglob("test_labels.csv"))
    assert (sealed.stat().st_mode & 0o077) == 0 or (heart_task.sealed.stat().st_mode & 0o077) == 0


def test_stratified_split_keeps_the_class_balance(heart_task):
    rate = heart_task.labels(prepare.TEST_JOB).mean()
    assert abs(rate - 139 / 303) < 0.02


def test_second_prepare_is_a_cache_hit(heart_task):
    started = time.monotonic()
    again = prepare.prepare(tasks.HEART, HEART_DATA)
    assert again == heart_task
    assert time.monotonic() - started < 2


def test_a_corrupt_copy_is_refused_with_what_to_do(tmp_path):
    bad = tmp_path / "processed.cleveland.data"
    bad.write_bytes(HEART_DATA.read_bytes()[:-100])
    with pytest.raises(ArctlError, match="sha256.*fetch it again"):
        prepare.prepare(tasks.HEART, bad)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ArctlError, match="does not exist"):
        prepare.prepare(tasks.HEART, tmp_path / "nope.csv")


def test_prepared_data_lives_in_arctl_home(heart_task, arctl_home):
    assert paths.home() == arctl_home
    assert arctl_home in heart_task.root.parents
