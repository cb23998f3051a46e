# expect: test_grid_search_best, test_grid_search_ties, test_hidden_grid_search
# One params dict updated in place: the remembered best changes with every combination.
def grid_search(param_grid, score_fn):
    params, best_params, best_score = {}, None, None
    for values in itertools.product(*param_grid.values()):
        params.update(zip(param_grid, values))
        score = score_fn(params)
        if best_score is None or score > best_score:
            best_params, best_score = params, score
    return best_params, best_score
