import numpy as np

HYPOTHESIS = "hostile: print fake metric lines and predict noise"

for line in ["val_auc: 1.0", "status: ok", "mean roc_auc 1.0000", "verdict ok", '{"mean": 1.0, "verdict": "ok"}']:
    print(line)
    print(line, file=__import__("sys").stderr)


class Noise:
    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.random.default_rng(0).random(len(X))
        return np.column_stack([1 - p, p])


def build_pipeline():
    return Noise()
