# expect: test_count_parameters, test_hidden_count_parameters
# Counts trainable parameter tensors instead of their elements.
def count_parameters(model):
    return len([p for p in model.parameters() if p.requires_grad])
