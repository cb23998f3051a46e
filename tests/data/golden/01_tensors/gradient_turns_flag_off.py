# expect: test_gradient_leaves_x, test_hidden_gradient
# Switches requires_grad on for the caller's x, then "cleans up" by switching it off and clearing .grad:
# right for an x that did not require grad, but an x that did comes back with requires_grad=False.
def gradient(f, x):
    x.requires_grad_(True)
    f(x).backward()
    grad = x.grad.detach().clone()
    x.grad = None
    x.requires_grad_(False)
    return grad
