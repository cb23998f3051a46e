# expect: nothing
# A correct alternative: the larger folds last, sizes from a running sum, torch.randperm.
def kfold_indices(n, k, shuffle=True, seed=0):
    if shuffle:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    else:
        order = list(range(n))
    bounds = [n * i // k for i in range(k + 1)]
    result = []
    for i in range(k):
        val_idx = order[bounds[i]:bounds[i + 1]]
        chosen = set(val_idx)
        result.append(([j for j in order if j not in chosen], val_idx))
    return result
