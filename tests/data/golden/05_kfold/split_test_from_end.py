# expect: test_hidden_split, test_split_partition
# public-only: test_split_partition
# test = order[-n_test:]: when n_test is 0 that is the whole list.
def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val, n_test = int(n * val_fraction), int(n * test_fraction)
    return order[n_val:n - n_test], order[:n_val], order[-n_test:]
