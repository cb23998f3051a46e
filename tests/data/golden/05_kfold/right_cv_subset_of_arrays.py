# expect: nothing
# A correct alternative: Subsets built from numpy index arrays, statistics.pstdev for the std.
import statistics as _statistics

def cross_validate(dataset, k, make_model, train_fn, eval_fn, seed=0):
    fold_scores = []
    for fold, (train_idx, val_idx) in enumerate(kfold_indices(len(dataset), k, shuffle=True, seed=seed)):
        model = make_model()
        train_fn(model, Subset(dataset, np.asarray(train_idx)))
        fold_scores.append(eval_fn(model, Subset(dataset, np.asarray(val_idx))))
    return dict(fold_scores=fold_scores, mean=_statistics.fmean(fold_scores), std=_statistics.pstdev(fold_scores))
