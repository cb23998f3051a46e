# expect: test_kfold_partition, test_hidden_kfold
# Every fold has n // k samples: the n % k leftover samples are never validated.
def kfold_indices(n, k, shuffle=True, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist() if shuffle else list(range(n))
    size = n // k
    folds = []
    for fold in range(k):
        val_idx = order[fold * size:(fold + 1) * size]
        folds.append(([i for i in order if i not in val_idx], val_idx))
    return folds
