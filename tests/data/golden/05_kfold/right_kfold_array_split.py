# expect: nothing
# A correct alternative: np.array_split, numpy arrays returned as they are.
def kfold_indices(n, k, shuffle=True, seed=0):
    indices = np.arange(n)
    if shuffle:
        np.random.RandomState(seed).shuffle(indices)
    folds = []
    for val_idx in np.array_split(indices, k):
        folds.append((np.setdiff1d(indices, val_idx), val_idx))
    return folds
