# expect: test_precision_recall, test_f1_macro, test_zero_division, test_hidden_metrics
# Micro averages: true positives over all samples, which is the accuracy.
def precision_recall_f1(preds, targets, num_classes):
    tp = (preds == targets).sum().item()
    precision = tp / len(preds)
    recall = tp / len(targets)
    return precision, recall, 2 * precision * recall / (precision + recall)
