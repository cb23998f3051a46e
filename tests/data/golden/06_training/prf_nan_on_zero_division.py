# expect: test_zero_division, test_hidden_metrics
# A class that is never predicted gives 0/0 = NaN.
def precision_recall_f1(preds, targets, num_classes):
    ps, rs, fs = [], [], []
    for c in range(num_classes):
        tp = ((preds == c) & (targets == c)).sum().float()
        p = tp / (preds == c).sum()
        r = tp / (targets == c).sum()
        ps.append(p.item())
        rs.append(r.item())
        fs.append((2 * p * r / (p + r)).item())
    return sum(ps) / num_classes, sum(rs) / num_classes, sum(fs) / num_classes
