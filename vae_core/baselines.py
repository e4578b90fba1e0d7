"""What a repair by the VAE is compared with: model-free fills and filters, all (N, 784) arrays in and out."""
from __future__ import annotations

import numpy as np

SIDE = 28


def mean_fill(images, observed, mean_image) -> np.ndarray:
    """Every unobserved pixel set to the training mean at that pixel (observed pixels unchanged)."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    return np.where(observed, x, np.asarray(mean_image, dtype=np.float32).reshape(1, -1))


def knn_fill(images, observed, train_images, n_neighbors: int = 5) -> np.ndarray:
    """scikit-learn's KNNImputer fitted on train_images: each missing pixel is the mean of that pixel over the
    n_neighbors training images nearest in the observed pixels (NaN-aware Euclidean distance)."""
    from sklearn.impute import KNNImputer  # scikit-learn is imported where used: it takes ~2 s

    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    train = np.asarray(train_images, dtype=np.float32).reshape(len(train_images), -1)
    imputer = KNNImputer(n_neighbors=n_neighbors, keep_empty_features=True).fit(train)
    filled = imputer.transform(np.where(observed, x, np.nan)).astype(np.float32)
    return np.where(observed, x, filled)  # KNNImputer returns observed values as given; this makes it exact


def median_filter(images, size: int = 3) -> np.ndarray:
    """A size x size median filter on each image (scipy.ndimage), the classic remedy for salt-and-pepper noise."""
    from scipy.ndimage import median_filter as _median

    x = np.asarray(images, dtype=np.float32).reshape(-1, SIDE, SIDE)
    return _median(x, size=(1, size, size), mode="constant", cval=0.0).reshape(len(x), -1)
