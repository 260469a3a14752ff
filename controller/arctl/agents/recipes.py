"""Recipes: a candidate described as data, and its rendering as an ordinary train.py.

A recipe is a plain dict (literals only, so it survives a round trip through the file it renders):

    {"model": "lgbm", "params": {...}, "impute": "median", "indicators": False, "scale": "standard",
     "expand": "none", "pairs": 0, "text": "onehot"}

or an ensemble of such dicts: {"combine": "vote" | "stack", "members": [recipe, ...]}.
Every rendered pipeline works on any schema arctl accepts: numeric columns go through one branch,
everything else (text, booleans) through an encoder that takes missing values as a level of its own.
"""

from __future__ import annotations

import ast
import hashlib
import json
import pprint
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Model:
    """One model family: its estimator per task kind, default hyperparameters and the grid moves walk on."""

    classifier: tuple[str, str]  # (module, class)
    regressor: tuple[str, str]
    defaults: dict
    grid: dict = field(default_factory=dict)  # param -> ascending values
    fixed: str = ""  # keyword arguments that never change (threads, seeds)
    scaled: bool = False  # needs standardised inputs
    imputes: bool = True  # needs missing values filled in
    tree: bool = False


SEED = "random_state=0"
MODELS = {
    "linear": Model(("sklearn.linear_model", "LogisticRegression"), ("sklearn.linear_model", "Ridge"),
                    {"C": 1.0}, {"C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]}, "max_iter=3000", scaled=True),
    "rf": Model(("sklearn.ensemble", "RandomForestClassifier"), ("sklearn.ensemble", "RandomForestRegressor"),
                {"n_estimators": 300, "min_samples_leaf": 2, "max_features": 0.4},
                {"min_samples_leaf": [1, 2, 3, 5, 8, 12], "max_features": [0.15, 0.25, 0.4, 0.6, 0.8, 1.0],
                 "n_estimators": [150, 300, 600]}, f"n_jobs=1, {SEED}", imputes=False, tree=True),
    "et": Model(("sklearn.ensemble", "ExtraTreesClassifier"), ("sklearn.ensemble", "ExtraTreesRegressor"),
                {"n_estimators": 400, "min_samples_leaf": 2, "max_features": 0.6},
                {"min_samples_leaf": [1, 2, 3, 5, 8, 12], "max_features": [0.25, 0.4, 0.6, 0.8, 1.0],
                 "n_estimators": [200, 400, 800]}, f"n_jobs=1, {SEED}", imputes=False, tree=True),
    "hgb": Model(("sklearn.ensemble", "HistGradientBoostingClassifier"),
                 ("sklearn.ensemble", "HistGradientBoostingRegressor"),
                 {"learning_rate": 0.05, "max_iter": 300, "max_leaf_nodes": 15, "min_samples_leaf": 20,
                  "l2_regularization": 1.0},
                 {"learning_rate": [0.01, 0.02, 0.05, 0.1, 0.2], "max_iter": [100, 200, 300, 600, 1000],
                  "max_leaf_nodes": [4, 8, 15, 31, 63], "min_samples_leaf": [5, 10, 20, 40, 80],
                  "l2_regularization": [0.0, 0.1, 1.0, 3.0, 10.0]}, f"early_stopping=False, {SEED}",
                 imputes=False, tree=True),
    "lgbm": Model(("lightgbm", "LGBMClassifier"), ("lightgbm", "LGBMRegressor"),
                  {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
                   "colsample_bytree": 0.8, "reg_lambda": 1.0},
                  {"n_estimators": [100, 200, 300, 600, 1000], "learning_rate": [0.01, 0.02, 0.05, 0.1, 0.2],
                   "num_leaves": [4, 8, 15, 31, 63], "min_child_samples": [5, 10, 20, 40, 80],
                   "colsample_bytree": [0.3, 0.5, 0.8, 1.0], "reg_lambda": [0.0, 0.1, 1.0, 3.0, 10.0]},
                  f"subsample=0.8, subsample_freq=1, n_jobs=1, {SEED}, verbose=-1", imputes=False, tree=True),
    "xgb": Model(("xgboost", "XGBClassifier"), ("xgboost", "XGBRegressor"),
                 {"n_estimators": 300, "max_depth": 4, "learning_rate": 0.05, "min_child_weight": 1.0,
                  "colsample_bytree": 0.8, "reg_lambda": 1.0},
                 {"n_estimators": [100, 200, 300, 600, 1000], "max_depth": [2, 3, 4, 6, 8],
                  "learning_rate": [0.01, 0.02, 0.05, 0.1, 0.2], "min_child_weight": [0.5, 1.0, 3.0, 10.0],
                  "colsample_bytree": [0.3, 0.5, 0.8, 1.0], "reg_lambda": [0.1, 1.0, 3.0, 10.0]},
                 f'subsample=0.8, n_jobs=1, {SEED}, tree_method="hist"', imputes=False, tree=True),
    "svm": Model(("sklearn.svm", "SVC"), ("sklearn.svm", "SVR"), {"C": 1.0},
                 {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]}, "", scaled=True),
    "flaml": Model(("flaml", "AutoML"), ("flaml", "AutoML"), {"time_budget": 15}, {}, ""),
}
LINEAR_REGRESSION_GRID = {"alpha": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]}
BASELINE = {"model": "linear", "params": {"C": 1.0}, "impute": "median", "indicators": False, "scale": "standard",
            "expand": "none", "pairs": 0, "text": "onehot"}

FLAML_CLASS = '''

class Flaml(BaseEstimator):
    """FLAML's AutoML as one estimator, searching within a fixed time per fit."""

    def __init__(self, task="classification", time_budget=15):
        self.task, self.time_budget = task, time_budget

    def fit(self, X, y):
        self.automl_ = AutoML()
        if self.task == "regression":
            metric, estimators = "rmse", ["lgbm", "rf", "extra_tree"]
        else:
            metric, estimators = ("roc_auc" if len(np.unique(y)) == 2 else "log_loss"), ["lgbm", "rf", "extra_tree", "lrl2"]
            self.classes_ = np.unique(y)
        self.automl_.fit(X, y, task=self.task, metric=metric, time_budget=self.time_budget,
                         estimator_list=estimators, n_jobs=1, seed=0, verbose=0, log_file_name="")
        return self

    def predict(self, X):
        return self.automl_.predict(X)

    def predict_proba(self, X):
        return self.automl_.predict_proba(X)
'''


def baseline(task_type: str) -> dict:
    """The recipe of arctl's baseline train.py (logistic or ridge regression)."""
    recipe = json.loads(json.dumps(BASELINE))
    if task_type == "regression":
        recipe["params"] = {"alpha": 1.0}
    return recipe


def defaults(model: str, task_type: str) -> dict:
    return {"alpha": 1.0} if model == "linear" and task_type == "regression" else dict(MODELS[model].defaults)


def grid(model: str, task_type: str) -> dict:
    return LINEAR_REGRESSION_GRID if model == "linear" and task_type == "regression" else MODELS[model].grid


def fingerprint(recipe: dict) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def read(source: str) -> dict | None:
    """The RECIPE constant of a rendered train.py, or None for any other file."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["RECIPE"]:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def members(recipe: dict) -> list[dict]:
    return recipe["members"] if "combine" in recipe else [recipe]


def describe(recipe: dict) -> str:
    """A short phrase naming the recipe (for hypotheses)."""
    if "combine" in recipe:
        how = "soft vote" if recipe["combine"] == "vote" else "stack"
        return f"{how} of " + " + ".join(m["model"] for m in recipe["members"])
    extras = [x for x, on in (("coded categories", recipe.get("coded")),
                              ("missing indicators", recipe["indicators"]), (f"{recipe['expand']}", recipe["expand"] != "none"),
                              (f"top-{recipe['pairs']} pairs", recipe["pairs"]),
                              (f"{recipe['scale']} scaling", recipe["scale"] not in ("standard", "none"))) if on]
    return f"{recipe['model']} ({recipe['text']} text{''.join(', ' + x for x in extras)})"


class _Code:
    """Collects the imports and helper definitions a rendering needs."""

    def __init__(self):
        self.imports: set[tuple[str, str]] = set()
        self.flaml = False

    def use(self, module: str, name: str) -> str:
        self.imports.add((module, name))
        return name


def _args(params: dict, fixed: str = "") -> str:
    return ", ".join([f"{k}={v!r}" for k, v in params.items()] + ([fixed] if fixed else []))


def _estimator(code: _Code, recipe: dict, task_type: str) -> str:
    name, params = recipe["model"], recipe["params"]
    model = MODELS[name]
    regression = task_type == "regression"
    if name == "flaml":
        code.flaml = True
        for imp in (("numpy", "np"), ("flaml", "AutoML"), ("sklearn.base", "BaseEstimator")):
            code.use(*imp)
        return f'Flaml(task="{"regression" if regression else "classification"}", {_args(params)})'
    module, cls = model.regressor if regression else model.classifier
    code.use(module, cls)
    fixed = model.fixed
    if name == "linear" and regression:
        fixed = ""
    if name == "svm":
        if not regression:
            return f"{cls}({_args(params, 'probability=True, random_state=0')})"
        # The RBF kernel and epsilon assume a target of unit scale.
        wrapper = code.use("sklearn.compose", "TransformedTargetRegressor")
        scaler = code.use("sklearn.preprocessing", "StandardScaler")
        return f"{wrapper}(regressor={cls}({_args(params)}), transformer={scaler}())"
    return f"{cls}({_args(params, fixed)})"


def _columns(code: _Code, recipe: dict, task_type: str) -> list[str]:
    """Lines building `columns`, the ColumnTransformer of one member."""
    steps = []
    if recipe["impute"] == "median":
        extra = ", add_indicator=True" if recipe["indicators"] else ""
        steps.append(f'{code.use("sklearn.impute", "SimpleImputer")}(strategy="median"{extra})')
    if recipe["scale"] == "standard":
        steps.append(f'{code.use("sklearn.preprocessing", "StandardScaler")}()')
    elif recipe["scale"] == "quantile":
        steps.append(f'{code.use("sklearn.preprocessing", "QuantileTransformer")}(n_quantiles=200, '
                     'output_distribution="normal")')
    expand = None
    if recipe["expand"] == "splines":
        expand = f'{code.use("sklearn.preprocessing", "SplineTransformer")}(n_knots=5, degree=3)'
    elif recipe["expand"] == "bins":
        expand = (f'{code.use("sklearn.preprocessing", "KBinsDiscretizer")}(n_bins=6, encode="onehot-dense", '
                  'strategy="quantile", quantile_method="averaged_inverted_cdf")')
    if recipe["pairs"]:
        score = "f_regression" if task_type == "regression" else "f_classif"
        code.use("sklearn.feature_selection", score)
        keep = expand or f'{code.use("sklearn.preprocessing", "FunctionTransformer")}()'
        pairs = (f'{code.use("sklearn.pipeline", "make_pipeline")}({code.use("sklearn.feature_selection", "SelectKBest")}'
                 f'({score}, k={recipe["pairs"]}), {code.use("sklearn.preprocessing", "PolynomialFeatures")}(degree=2, '
                 'interaction_only=True, include_bias=False))')
        steps.append(f'{code.use("sklearn.pipeline", "make_union")}({keep}, {pairs})')
    elif expand:
        steps.append(expand)
    numeric = (f'{code.use("sklearn.pipeline", "make_pipeline")}(\n        ' + ",\n        ".join(steps) + ",\n    )"
               if steps else '"passthrough"')
    if recipe["text"] == "onehot":
        text = (f'{code.use("sklearn.preprocessing", "OneHotEncoder")}(handle_unknown="infrequent_if_exist", '
                'min_frequency=5, max_categories=30, sparse_output=False)')
    elif recipe["text"] == "ordinal":
        text = (f'{code.use("sklearn.preprocessing", "OrdinalEncoder")}(handle_unknown="use_encoded_value", '
                'unknown_value=-1, encoded_missing_value=-1)')
    else:  # target encoding, cross-fitted inside the fold's training rows
        kind = ', target_type="continuous"' if task_type == "regression" else ""
        text = f'{code.use("sklearn.preprocessing", "TargetEncoder")}({"random_state=0" + kind})'
    code.use("sklearn.compose", "make_column_transformer")
    code.use("sklearn.compose", "make_column_selector")
    return [f"    numeric = {numeric}",
            "    # Text and other non-numeric columns; missing values are a level of their own.",
            f"    text = {text}",
            '    columns = make_column_transformer((numeric, make_column_selector(dtype_include="number")),',
            '                                      (text, make_column_selector(dtype_exclude="number")))']


def _member(code: _Code, recipe: dict, task_type: str, name: str) -> list[str]:
    pipe = code.use("sklearn.pipeline", "make_pipeline")
    return [f"def {name}():", f'    """{describe(recipe)}."""', *_columns(code, recipe, task_type),
            f"    return {pipe}(columns, {_estimator(code, recipe, task_type)})"]


def render(recipe: dict, task_type: str, hypothesis: str, why: str) -> str:
    """The train.py of a recipe: HYPOTHESIS, RECIPE and build_pipeline(), nothing hidden."""
    code = _Code()
    body: list[str] = []
    if "combine" not in recipe:
        body += _member(code, recipe, task_type, "build_pipeline")
    else:
        names = []
        for i, member in enumerate(recipe["members"], 1):
            names.append(f"member_{i}_{member['model']}")
            body += _member(code, member, task_type, names[-1]) + ["", ""]
        pairs = ", ".join(f'("{n.split("_", 2)[2]}{i}", {n}())' for i, n in enumerate(names, 1))
        regression = task_type == "regression"
        if recipe["combine"] == "vote":
            cls = code.use("sklearn.ensemble", "VotingRegressor" if regression else "VotingClassifier")
            ensemble = f"{cls}([{pairs}]" + (")" if regression else ', voting="soft")')
        else:
            cls = code.use("sklearn.ensemble", "StackingRegressor" if regression else "StackingClassifier")
            final = code.use("sklearn.linear_model", "RidgeCV" if regression else "LogisticRegression")
            ensemble = f"{cls}([{pairs}], final_estimator={final}({'' if regression else 'max_iter=2000'}), cv=3)"
        body += ["def build_pipeline():", f"    return {ensemble}"]
    modules: dict[str, list[str]] = {}
    plain = sorted(m for m, n in code.imports if m == "numpy")
    for module, name in sorted(code.imports):
        if module != "numpy":
            modules.setdefault(module, []).append(name)
    lines = [f'"""Written by arctl\'s compositional agent: the best recipe so far plus one change.\n\n{why}\n"""', ""]
    lines += [f"import {m} as np" for m in plain] + [f"from {m} import {', '.join(sorted(n))}" for m, n in modules.items()]
    lines += ["", f"HYPOTHESIS = {hypothesis!r}", "",
              "# The candidate as data; the compositional agent reads it back to build the next one.",
              "RECIPE = " + pprint.pformat(recipe, width=110, sort_dicts=False).replace("\n", "\n         ")]
    coded = members(recipe)[0].get("coded", [])
    if coded:
        lines += ["# Numeric columns with a few distinct values (from the task card): coded categories, encoded like text.",
                  f"CODED = {coded!r}", "", "", "def feature_fn(X):", "    X = X.copy()", "    for col in CODED:",
                  "        if col in X:", "            X[col] = X[col].astype(str)", "    return X"]
    if code.flaml:
        lines.append(FLAML_CLASS.rstrip("\n"))
    return "\n".join(lines + ["", ""] + body) + "\n"
