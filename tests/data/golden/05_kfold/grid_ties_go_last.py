# expect: test_grid_search_ties, test_hidden_grid_search
# >= keeps the last of equal scores.
def grid_search(param_grid, score_fn):
    keys = list(param_grid)
    best_params, best_score = None, -float("inf")
    for values in itertools.product(*param_grid.values()):
        params = dict(zip(keys, values))
        score = score_fn(params)
        if score >= best_score:
            best_params, best_score = params, score
    return best_params, best_score
