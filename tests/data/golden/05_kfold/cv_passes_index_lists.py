# expect: test_cross_validate_folds, test_hidden_cross_validate
# The index lists are passed on instead of Subsets of the data set.
def cross_validate(dataset, k, make_model, train_fn, eval_fn, seed=0):
    scores = []
    for train_idx, val_idx in kfold_indices(len(dataset), k, shuffle=True, seed=seed):
        model = make_model()
        train_fn(model, train_idx)
        scores.append(float(eval_fn(model, val_idx)))
    mean = sum(scores) / k
    return {"fold_scores": scores, "mean": mean, "std": (sum((s - mean) ** 2 for s in scores) / k) ** 0.5}
