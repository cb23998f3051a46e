# expect: test_gradient_values, test_hidden_gradient
# Returns the function's value per element instead of its derivative.
def gradient(f, x):
    leaf = x.detach().clone().requires_grad_(True)
    return torch.full_like(x, float(f(leaf)))
