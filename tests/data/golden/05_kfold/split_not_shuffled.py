# expect: test_split_seed, test_hidden_split
# The indices are cut in order, never shuffled.
def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=0):
    order = list(range(n))
    n_val, n_test = int(n * val_fraction), int(n * test_fraction)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
