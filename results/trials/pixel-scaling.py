"""Trial behind chapter 05's pixel references (docs/deviations.md, Vision): logistic regression (scikit-learn's
default C = 1) on the pixels as stored (0 to 1) against each pixel standardized (StandardScaler), scored on the
last 2,000 training images with labels drawn from the first 8,000 (no test image is read), 3 draws per count.

    python3 -m venv /tmp/sklearn-venv && /tmp/sklearn-venv/bin/pip install scikit-learn numpy
    scripts/record.sh trials/pixel-scaling /tmp/sklearn-venv/bin/python results/trials/pixel-scaling.py
"""
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

x = np.load("data/vision/mnist_train_images.npy").reshape(10000, -1).astype(np.float64) / 255
y = np.load("data/vision/mnist_train_labels.npy")
x_valid, y_valid = x[8000:], y[8000:]
rng = np.random.default_rng(0)
print("labels  pixels as stored  pixels standardized   (validation accuracy, mean of 3 draws)")
for count in (100, 1000, 8000):
    scores = {"stored": [], "standardized": []}
    for _ in range(3):
        chosen = rng.permutation(8000)[:count]
        for name in scores:
            a, b = x[chosen], x_valid
            if name == "standardized":
                scaler = StandardScaler().fit(a)
                a, b = scaler.transform(a), scaler.transform(b)
            model = LogisticRegression(C=1.0, max_iter=3000).fit(a, y[chosen])
            scores[name].append((model.predict(b) == y_valid).mean())
    print(f"{count:6d}  {100 * np.mean(scores['stored']):16.1f}%  {100 * np.mean(scores['standardized']):18.1f}%")
