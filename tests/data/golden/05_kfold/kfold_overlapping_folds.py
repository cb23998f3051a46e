# expect: test_kfold_partition, test_kfold_sizes, test_hidden_kfold
# An off-by-one: each validation fold takes one sample of the next fold as well.
def kfold_indices(n, k, shuffle=True, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist() if shuffle else list(range(n))
    base, extra = divmod(n, k)
    folds, start = [], 0
    for fold in range(k):
        size = base + (1 if fold < extra else 0)
        val_idx = order[start:start + size] + order[start + size:start + size + 1] if fold < k - 1 else order[start:]
        folds.append(([i for i in order if i not in val_idx], val_idx))
        start += size
    return folds
