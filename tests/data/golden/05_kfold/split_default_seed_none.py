# expect: test_split_seed
# seed=None as the default, which shuffles with the global random state: right wherever a seed is given,
# but train_val_test_split(n) is not the split of seed 0 (nor the same twice).
def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=None):
    rng = np.random if seed is None else np.random.default_rng(seed)
    order = rng.permutation(n).tolist()
    n_val, n_test = int(n * val_fraction), int(n * test_fraction)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
