"""Reference answers from scikit-learn for the classical references (Tests/EvaluationTests/ClassicalTests.swift).

Run from the repository root:
    python3 -m venv /tmp/sklearn-venv && /tmp/sklearn-venv/bin/pip install scikit-learn numpy
    /tmp/sklearn-venv/bin/python Tests/EvaluationTests/Fixtures/make_classical.py
It writes classical.json next to this file (scikit-learn's version recorded inside). The Swift tests compare
against it and never need Python.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(0)
out = {"sklearn_version": sklearn.__version__}


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


# k-nearest neighbours, cosine similarity: three clusters in 6 dimensions, 40 references, 25 queries.
centres = rng.normal(size=(3, 6))
y_train = rng.integers(0, 3, size=40)
x_train = (centres[y_train] + 0.9 * rng.normal(size=(40, 6))).astype(np.float32)
y_test = rng.integers(0, 3, size=25)
x_test = (centres[y_test] + 0.9 * rng.normal(size=(25, 6))).astype(np.float32)
knn = {"x_train": floats(x_train), "y_train": y_train.tolist(), "x_test": floats(x_test), "features": 6, "classes": 3}
for k in (1, 5):
    model = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(x_train, y_train)
    knn[f"majority_{k}"] = model.predict(x_test).tolist()
# DINO's weighted vote: each of the k nearest votes exp(similarity / 0.07), similarity = 1 - cosine distance.
model = KNeighborsClassifier(n_neighbors=20, metric="cosine", algorithm="brute",
                             weights=lambda d: np.exp((1 - d) / 0.07)).fit(x_train, y_train)
knn["weighted_20"] = model.predict(x_test).tolist()
out["knn"] = knn

# Logistic regression (multinomial, lbfgs, unpenalized intercept) on standardized features.
y_train = rng.integers(0, 4, size=60)
x_train = (rng.normal(size=(60, 5)) * [1, 3, 0.5, 2, 1] + rng.normal(size=(4, 5))[y_train] + 2).astype(np.float32)
x_test = (rng.normal(size=(15, 5)) * [1, 3, 0.5, 2, 1] + 2).astype(np.float32)
scaler = StandardScaler().fit(x_train)
logistic = {"x_train": floats(x_train), "y_train": y_train.tolist(), "x_test": floats(x_test), "features": 5, "classes": 4,
            "scaler_mean": floats(scaler.mean_), "scaler_scale": floats(scaler.scale_)}
for c in (1.0, 0.1):
    # In double precision: scikit-learn stops a float32 fit short of the optimum (by about 3e-4 here).
    model = LogisticRegression(C=c, tol=1e-10, max_iter=10000).fit(scaler.transform(x_train.astype(np.float64)), y_train)
    logistic[f"c{c}"] = {"coef": floats(model.coef_), "intercept": floats(model.intercept_),
                         "proba": floats(model.predict_proba(scaler.transform(x_test.astype(np.float64))))}
out["logistic"] = logistic

# Multinomial Naive Bayes on token counts: 30 documents of 3-12 tokens over a vocabulary of 9, two classes
# that prefer different tokens.
vocabulary = 9
preferences = np.array([[5, 4, 3, 1, 1, 1, 1, 0.5, 0.5], [0.5, 1, 1, 1, 1, 3, 4, 5, 0.5]])
def documents(count):
    labels = rng.integers(0, 2, size=count)
    docs = [rng.choice(vocabulary, size=rng.integers(3, 13), p=preferences[l] / preferences[l].sum()).tolist() for l in labels]
    return docs, labels
def counts(docs):
    matrix = np.zeros((len(docs), vocabulary))
    for i, doc in enumerate(docs):
        for token in doc:
            matrix[i, token] += 1
    return matrix
train_docs, train_labels = documents(30)
test_docs, _ = documents(12)
model = MultinomialNB(alpha=1.0).fit(counts(train_docs), train_labels)
out["naive_bayes"] = {"train": train_docs, "labels": train_labels.tolist(), "test": test_docs, "vocabulary": vocabulary,
                      "class_log_prior": floats(model.class_log_prior_), "feature_log_prob": floats(model.feature_log_prob_),
                      "joint_log_likelihood": floats(model.predict_joint_log_proba(counts(test_docs))),
                      "predict": model.predict(counts(test_docs)).tolist()}

path = pathlib.Path(__file__).with_name("classical.json")
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
