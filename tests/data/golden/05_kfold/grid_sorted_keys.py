# expect: test_grid_search_ties, test_hidden_grid_search
# The keys are sorted, so ties are broken in another order than the grid's.
def grid_search(param_grid, score_fn):
    keys = sorted(param_grid)
    best_params, best_score = None, None
    for values in itertools.product(*(param_grid[key] for key in keys)):
        params = dict(zip(keys, values))
        score = score_fn(params)
        if best_score is None or score > best_score:
            best_params, best_score = params, score
    return best_params, best_score
