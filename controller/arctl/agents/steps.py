"""The compositional agent's library of changes: each one takes a recipe to a recipe, on any schema.

A step is one change to the best recipe: a preprocessing step, another model family, one notch of one
hyperparameter, or an ensemble with the best candidate of another family. Its prior says how promising it
usually is for data of the task card's size (few rows: linear moves and forests before boosted trees; many:
boosted trees and FLAML first); the agent (arctl.agents.compose) adjusts that with what the run has learned.
"""

from __future__ import annotations

import copy
import dataclasses
import re

from arctl.agents import recipes
from arctl.agents.recipes import MODELS

SMALL = 2000  # training rows below which boosted trees usually lose to regularised linear models and forests
# How promising each family usually is, by the size of the data (rows of the task card; 0 = unknown, read as large).
MODEL_PRIOR = {"lgbm": 3.0, "flaml": 3.0, "hgb": 2.75, "rf": 2.7, "et": 2.6, "xgb": 2.5, "svm": 2.1, "linear": 2.0}
SMALL_PRIOR = {"et": 2.3, "rf": 2.2, "svm": 2.1, "linear": 2.0, "hgb": 1.5, "lgbm": 1.4, "xgb": 1.3, "flaml": 1.2}
SMALL_REGRESSION_PRIOR = {**SMALL_PRIOR, "hgb": 2.5}  # histogram boosting with its defaults holds up on small regression
MODEL_WHY = {
    "linear": "a regularised linear model generalises well when the signal is mostly additive",
    "rf": "a random forest captures non-linear effects and interactions with little tuning",
    "et": "extremely randomised trees have lower variance than a forest on small data",
    "hgb": "histogram gradient boosting is strong on tabular data and handles missing values natively",
    "lgbm": "gradient-boosted trees (LightGBM) are usually the strongest single model on tabular data",
    "xgb": "XGBoost's depth-wise trees regularise differently from LightGBM's leaf-wise ones",
    "svm": "an RBF kernel gives smooth non-linear boundaries on standardised columns",
    "flaml": "FLAML searches model families and hyperparameters within a fixed time per fit",
}
TEXT_WHY = {
    "onehot": "one-hot codes let every level of a text column have its own effect",
    "ordinal": "integer codes keep text columns compact, which suits trees",
    "target": "target encoding (cross-fitted inside the fold) summarises many levels in one number",
}


@dataclasses.dataclass(frozen=True)
class Schema:
    """What the task card says about the data (arctl.taskcard)."""

    task_type: str = "binary"
    rows: int = 0
    numeric: int = 0
    text: int = 0
    missing: bool = False
    deadline: float = 180.0
    greater_is_better: bool = True
    coded: tuple[str, ...] = ()  # numeric columns with 3 to 8 distinct values: probably coded categories

    @property
    def small(self) -> bool:
        """Few training rows: variance dominates, so simple, regularised models and averaging come first."""
        return 0 < self.rows < SMALL

    @classmethod
    def from_card(cls, card: str, task_type: str) -> Schema:
        rows = re.search(r"of the (\d+) training rows", card)
        deadline = re.search(r"Budget: ([\d.]+) s", card)
        numeric = text = 0
        missing = False
        coded = []
        for line in card.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 6 or not line.startswith("|") or cells[0] in ("column", "---"):
                continue
            if re.match(r"(u?int|float)\d*$", cells[1]):
                numeric += 1
                if cells[3].isdigit() and 3 <= int(cells[3]) <= 8:
                    coded.append(cells[0])
            else:
                text += 1
            missing = missing or cells[2] not in ("0", "")
        return cls(task_type=task_type, rows=int(rows.group(1)) if rows else 0, numeric=numeric, text=text,
                   missing=missing, deadline=float(deadline.group(1)) if deadline else 180.0,
                   greater_is_better="lower is better" not in card, coded=tuple(coded))


@dataclasses.dataclass(frozen=True)
class Step:
    key: str  # names the change, whatever it is applied to (the agent's memory is keyed by it)
    kind: str  # model, prep, hparam or ensemble
    prior: float
    recipe: dict
    change: str  # what changes, a phrase
    why: str  # why it may help
    move: tuple = ()  # hparam steps: (model, param, +1 | -1)


def library(best: dict, schema: Schema, others: dict[str, dict]) -> list[Step]:
    """Every applicable one-change step from the best recipe. others: the best scored single recipe per family."""
    if "combine" in best:
        # Besides reshaping the ensemble, improve its first (strongest) member by one change.
        lead = best["members"][0]
        tuned = [dataclasses.replace(step, key="lead:" + step.key, change=f"in the {lead['model']} member, {step.change}",
                                     recipe={**best, "members": [step.recipe, *best["members"][1:]]})
                 for step in [*_prep_steps(lead, schema), *_hparam_steps(lead, schema)]]
        return [*_ensemble_steps(best, others, schema), *tuned]
    return [*_model_steps(best, schema), *_prep_steps(best, schema), *_hparam_steps(best, schema),
            *_ensemble_steps(best, others, schema)]


def partner(best: dict, other: dict, schema: Schema) -> dict:
    """Another family's best-scored model, on the best recipe's preprocessing (which may have moved on since)."""
    lead = best["members"][0] if "combine" in best else best
    return {**switch_model(lead, other["model"], schema), "params": dict(other["params"])}


def _with(recipe: dict, **change) -> dict:
    new = copy.deepcopy(recipe)
    new.update(change)
    return new


def switch_model(recipe: dict, name: str, schema: Schema) -> dict:
    """The recipe with another model family and that family's default hyperparameters."""
    model = MODELS[name]
    new = _with(recipe, model=name, params=recipes.defaults(name, schema.task_type))
    if name == "flaml":  # a share of the per-candidate deadline: folds run in waves
        new["params"] = {"time_budget": int(min(60, max(5, schema.deadline * 0.1)))}
    if model.scaled and new["scale"] == "none":
        new["scale"] = "standard"
    if model.imputes or name in ("linear", "svm", "flaml"):
        new["impute"] = "median"
    if model.tree:
        new["expand"] = "none"  # trees make their own cuts
    return new


def model_prior(name: str, schema: Schema) -> float:
    """Large data: boosted trees and FLAML first. Small data: forests and the linear family before boosting, except
    histogram boosting on regression, which is tried early there too."""
    if not schema.small:
        return MODEL_PRIOR[name]
    return (SMALL_REGRESSION_PRIOR if schema.task_type == "regression" else SMALL_PRIOR)[name]


def _model_steps(best: dict, schema: Schema) -> list[Step]:
    out = []
    for name in MODELS:
        if name == best["model"] or (name == "svm" and schema.rows > 5000) or (name == "flaml" and schema.deadline < 60):
            continue
        out.append(Step(f"model={name}", "model", model_prior(name, schema), switch_model(best, name, schema),
                        f"switch to {name}", MODEL_WHY[name]))
    return out


def _prep_steps(best: dict, schema: Schema) -> list[Step]:
    out = []
    model = MODELS[best["model"]]
    smooth = best["model"] in ("linear", "svm")  # models that gain from reshaped inputs
    median = best["impute"] == "median"
    if schema.missing and median and not best["indicators"]:
        out.append(Step("indicators=on", "prep", 2.3, _with(best, indicators=True), "add missing-value indicators",
                        "missingness itself can carry signal"))
    if schema.coded and not best.get("coded"):
        out.append(Step("coded=on", "prep", 2.3 if smooth else 1.2, _with(best, coded=list(schema.coded)),
                        f"encode {len(schema.coded)} numeric columns with few distinct values like text",
                        "they look like coded categories, whose codes have no order a model should use"))
    if best.get("coded"):
        out.append(Step("coded=off", "prep", 0.5, _with(best, coded=[]), "treat the coded columns as numbers again",
                        "their order may mean something after all"))
    if schema.text or best.get("coded"):
        for enc in ("onehot", "target", "ordinal"):
            if enc != best["text"]:
                prior = {"onehot": 1.9, "target": 2.1, "ordinal": 1.0 if smooth else 1.8}[enc]
                if best["text"] != "onehot":  # a kept encoding: going back or sideways is less likely to pay
                    prior -= 0.8
                out.append(Step(f"text={enc}", "prep", prior, _with(best, text=enc), f"encode text columns as {enc}",
                                TEXT_WHY[enc]))
    if model.scaled:
        to = "quantile" if best["scale"] == "standard" else "standard"
        out.append(Step(f"scale={to}", "prep", 1.3 if to == "quantile" else 0.8, _with(best, scale=to),
                        f"{to} scaling of numeric columns",
                        "a rank-based normal transform tames skewed columns and outliers" if to == "quantile"
                        else "plain standardisation keeps the original spacing of values"))
    if schema.numeric and median:
        bend = 2.45 if schema.small and schema.task_type == "regression" else 2.2  # few rows: bend before boosting
        for how, prior, why in (("splines", bend if smooth else 0.5, "cubic splines let a linear model bend each column"),
                                ("bins", 1.1 if smooth else 0.4, "quantile bins let a linear model fit steps")):
            if best["expand"] != how:
                out.append(Step(f"expand={how}", "prep", prior, _with(best, expand=how), f"expand numeric columns into {how}",
                                why))
        if best["expand"] != "none":
            out.append(Step("expand=none", "prep", 0.7, _with(best, expand="none"), "drop the numeric expansion",
                            "fewer features, less variance"))
    if schema.numeric >= 2 and median:
        for k, prior in ((8, 2.0 if smooth else 1.3), (4, 0.9), (16, 1.0 if schema.numeric >= 10 else 0.0)):
            if prior and best["pairs"] != k and (k == 8 or best["pairs"]):
                out.append(Step(f"pairs={k}", "prep", prior, _with(best, pairs=k),
                                f"add pairwise products of the {k} strongest numeric columns",
                                "interactions of the strongest columns are where joint effects usually hide"))
        if best["pairs"]:
            out.append(Step("pairs=0", "prep", 0.6, _with(best, pairs=0), "drop the pairwise products",
                            "fewer features, less variance"))
    if schema.missing and not model.imputes and median and not best["pairs"] and best["expand"] == "none":
        out.append(Step("impute=none", "prep", 1.2, _with(best, impute="none", indicators=False),
                        "leave missing values to the trees", "the trees route missing values where they fit best"))
    return out


def _hparam_steps(best: dict, schema: Schema) -> list[Step]:
    out = []
    name = best["model"]
    # On small data the strength of regularisation (C, alpha) is the linear model's most telling knob.
    prior = (2.4 if schema.task_type == "regression" else 2.2) if name == "linear" and schema.small else 1.9
    for param, values in recipes.grid(name, schema.task_type).items():
        current = best["params"].get(param)
        if current is None:
            continue
        for direction in (+1, -1):
            beyond = [v for v in values if (v - current) * direction > 0]  # the grid's next value that way
            if not beyond:
                continue
            value = min(beyond) if direction > 0 else max(beyond)
            params = {**best["params"], param: value}
            out.append(Step(f"{name}.{param}={value}", "hparam", prior, _with(best, params=params),
                            f"{param} {current} → {value}",
                            f"one notch {'up' if direction > 0 else 'down'} the grid of the best model",
                            (name, param, direction)))
    return out


def _ensemble_steps(best: dict, others: dict[str, dict], schema: Schema) -> list[Step]:
    out = []
    if "combine" in best:
        inside = {m["model"] for m in best["members"]}
        for rank, (family, recipe) in enumerate(others.items()):
            if family not in inside and len(best["members"]) < 4:
                out.append(Step(f"{best['combine']}+{family}", "ensemble", 2.2 - 0.3 * rank,
                                {**best, "members": [*best["members"], partner(best, recipe, schema)]},
                                f"add the best {family} model",
                                "another family's errors are only partly correlated with the ensemble's"))
        to = "stack" if best["combine"] == "vote" else "vote"
        out.append(Step(f"combine={to}", "ensemble", 1.4, {**best, "combine": to}, f"combine by {to}",
                        "a learned combination weighs members by merit" if to == "stack" else "plain averaging cannot overfit"))
        return out
    for rank, (family, recipe) in enumerate(others.items()):
        if family == best["model"] or rank > 2:
            continue
        for how, prior in (("vote", 2.4 - 0.3 * rank), ("stack", 1.5 - 0.3 * rank)):
            out.append(Step(f"{how}+{family}", "ensemble", prior,
                            {"combine": how, "members": [best, partner(best, recipe, schema)]},
                            f"{'soft-vote' if how == 'vote' else 'stack'} with the best {family} model",
                            "two families' errors are only partly correlated"))
    return out
