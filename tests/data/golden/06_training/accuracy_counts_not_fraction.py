# expect: test_accuracy, test_hidden_metrics
# The number of correct predictions, not the fraction.
def accuracy(preds, targets):
    return float((preds == targets).sum())
