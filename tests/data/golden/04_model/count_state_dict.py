# expect: test_count_parameters, test_hidden_count_parameters
# Counts the state_dict: buffers included, frozen parameters included.
def count_parameters(model):
    return sum(v.numel() for v in model.state_dict().values())
