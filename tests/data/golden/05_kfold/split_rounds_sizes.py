# expect: test_split_sizes, test_hidden_split
# round() instead of int(): 35 * 0.1 = 3.5 becomes 4.
def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=0):
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
