# expect: nothing
# A correct alternative: a confusion matrix, numpy division with zeros where the denominator is 0.
import numpy as np

def precision_recall_f1(preds, targets, num_classes):
    matrix = np.zeros((num_classes, num_classes))
    for t, p in zip(targets.tolist(), preds.tolist()):
        matrix[t, p] += 1
    tp = np.diag(matrix)
    col, row = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, col, out=np.zeros(num_classes), where=col > 0)
    recall = np.divide(tp, row, out=np.zeros(num_classes), where=row > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(num_classes), where=denom > 0)
    return float(precision.mean()), float(recall.mean()), float(f1.mean())
