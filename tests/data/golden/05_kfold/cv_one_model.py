# expect: test_cross_validate_fresh_models, test_hidden_cross_validate
# One model made before the loop and trained on fold after fold.
def cross_validate(dataset, k, make_model, train_fn, eval_fn, seed=0):
    model = make_model()
    scores = []
    for train_idx, val_idx in kfold_indices(len(dataset), k, shuffle=True, seed=seed):
        train_fn(model, Subset(dataset, train_idx))
        scores.append(float(eval_fn(model, Subset(dataset, val_idx))))
    return {"fold_scores": scores, "mean": float(np.mean(scores)), "std": float(np.std(scores))}
