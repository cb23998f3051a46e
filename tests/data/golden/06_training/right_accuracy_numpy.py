# expect: nothing
# A correct alternative: through numpy, a numpy float returned.
import numpy as np

def accuracy(preds, targets):
    return np.mean(preds.numpy() == targets.numpy())
