# expect: test_kfold_sizes, test_hidden_kfold
# Folds of n // k samples, the last fold taking everything left over.
def kfold_indices(n, k, shuffle=True, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist() if shuffle else list(range(n))
    size = n // k
    folds = []
    for fold in range(k):
        stop = n if fold == k - 1 else (fold + 1) * size
        val_idx = order[fold * size:stop]
        folds.append((order[:fold * size] + order[stop:], val_idx))
    return folds
