# expect: test_grid_search_best, test_hidden_grid_search
# The best score starts at 0, so a grid of negative scores finds nothing.
def grid_search(param_grid, score_fn):
    keys = list(param_grid)
    best_params, best_score = None, 0
    for values in itertools.product(*param_grid.values()):
        params = dict(zip(keys, values))
        score = score_fn(params)
        if score > best_score:
            best_params, best_score = params, score
    return best_params, best_score
