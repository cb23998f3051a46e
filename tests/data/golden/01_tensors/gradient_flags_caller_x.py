# expect: test_gradient_leaves_x, test_hidden_gradient
# Switches requires_grad on for the caller's x (and cleans up .grad, but not the flag).
def gradient(f, x):
    x.requires_grad_(True)
    f(x).backward()
    grad = x.grad.clone()
    x.grad = None
    return grad
