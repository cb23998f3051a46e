# expect: test_split_sizes
# Defaults of 0.2 for both fractions instead of 0.1: right wherever the fractions are given.
_reference_split = train_val_test_split

def train_val_test_split(n, val_fraction=0.2, test_fraction=0.2, seed=0):
    return _reference_split(n, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
