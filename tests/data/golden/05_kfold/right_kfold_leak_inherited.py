# expect: test_kfold_complement, test_hidden_kfold
# kfold_indices leaks; cross_validate uses its folds faithfully and is not blamed for it.
_reference_kfold = kfold_indices

def kfold_indices(n, k, shuffle=True, seed=0):
    return [(train + val[:1], val) for train, val in _reference_kfold(n, k, shuffle, seed)]
