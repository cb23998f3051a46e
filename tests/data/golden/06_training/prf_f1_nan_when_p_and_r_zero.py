# expect: test_zero_division, test_hidden_metrics
# Precision and recall guard their zero denominators, F1 = 2PR/(P+R) does not: a class whose precision and
# recall are both 0 gets a NaN F1. Two of the three values are right: both checks earn two thirds (partial).
def precision_recall_f1(preds, targets, num_classes):
    ps, rs, fs = [], [], []
    for c in range(num_classes):
        tp = ((preds == c) & (targets == c)).sum().float()
        predicted, actual = (preds == c).sum(), (targets == c).sum()
        p = tp / predicted if predicted > 0 else torch.tensor(0.0)
        r = tp / actual if actual > 0 else torch.tensor(0.0)
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r))
    return torch.stack(ps).mean().item(), torch.stack(rs).mean().item(), torch.stack(fs).mean().item()
