# expect: nothing
# A correct alternative: every result in a list, then max() by score (max keeps the first maximum).
def grid_search(param_grid, score_fn):
    names = list(param_grid.keys())
    results = []
    for combo in itertools.product(*[param_grid[name] for name in names]):
        params = {name: value for name, value in zip(names, combo)}
        results.append((params, score_fn(params)))
    return max(results, key=lambda pair: pair[1])
