# expect: test_cross_validate_summary, test_hidden_cross_validate
# statistics.stdev: the sample standard deviation (divides by k - 1).
import statistics as _statistics

def cross_validate(dataset, k, make_model, train_fn, eval_fn, seed=0):
    scores = []
    for train_idx, val_idx in kfold_indices(len(dataset), k, shuffle=True, seed=seed):
        model = make_model()
        train_fn(model, Subset(dataset, train_idx))
        scores.append(float(eval_fn(model, Subset(dataset, val_idx))))
    return {"fold_scores": scores, "mean": _statistics.mean(scores), "std": _statistics.stdev(scores)}
