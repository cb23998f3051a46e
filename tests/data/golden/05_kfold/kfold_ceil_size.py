# expect: test_kfold_sizes, test_hidden_kfold
# Folds of ceil(n / k) samples: the last folds come out short.
import math as _math

def kfold_indices(n, k, shuffle=True, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist() if shuffle else list(range(n))
    size = _math.ceil(n / k)
    folds = []
    for fold in range(k):
        val_idx = order[fold * size:(fold + 1) * size]
        folds.append((order[:fold * size] + order[(fold + 1) * size:], val_idx))
    return folds
