# expect: test_split_seed, test_hidden_split
# Shuffles with the global random state: the seed argument is ignored.
def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=0):
    order = np.random.permutation(n).tolist()
    n_val, n_test = int(n * val_fraction), int(n * test_fraction)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
