# expect: test_kfold_complement, test_hidden_kfold
# train_idx is every index: validation data leaks into training.
_reference_kfold = kfold_indices

def kfold_indices(n, k, shuffle=True, seed=0):
    return [(list(range(n)), val) for _, val in _reference_kfold(n, k, shuffle, seed)]
