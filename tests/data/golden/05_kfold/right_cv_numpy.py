# expect: nothing
# A correct alternative: models made up front (one per fold), numpy statistics, the scores as a numpy array.
def cross_validate(dataset, k, make_model, train_fn, eval_fn, seed=0):
    folds = kfold_indices(len(dataset), k, shuffle=True, seed=seed)
    models = [make_model() for _ in folds]
    scores = []
    for model, (train_idx, val_idx) in zip(models, folds):
        train_fn(model, Subset(dataset, train_idx))
        scores.append(eval_fn(model, Subset(dataset, val_idx)))
    scores = np.array(scores, dtype=float)
    return {"fold_scores": scores, "mean": scores.mean(), "std": scores.std()}
