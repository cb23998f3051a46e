# expect: test_count_parameters, test_hidden_count_parameters
# Frozen parameters are counted too.
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
