# expect: test_accuracy, test_hidden_metrics
# .item() forgotten: a 0-d tensor comes back instead of a float.
def accuracy(preds, targets):
    return (preds == targets).float().mean()
