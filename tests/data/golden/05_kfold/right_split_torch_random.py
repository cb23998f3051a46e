# expect: nothing
# A correct alternative: torch.randperm with its own generator, seeded global state left alone.
import random as _random

def train_val_test_split(n, val_fraction=0.1, test_fraction=0.1, seed=0):
    order = list(range(n))
    _random.Random(seed).shuffle(order)
    n_val = int(n * val_fraction)
    n_test = int(n * test_fraction)
    val, test = order[:n_val], order[n_val:n_val + n_test]
    train = order[n_val + n_test:]
    return (train, val, test)
