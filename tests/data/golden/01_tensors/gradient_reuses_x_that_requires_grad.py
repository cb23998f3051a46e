# expect: test_gradient_leaves_x, test_hidden_gradient
# Detaches a copy only when x does not require grad; an x that already does is differentiated itself,
# so its .grad is left set (and grows with every call). Right for an x that does not require grad.
def gradient(f, x):
    leaf = x if x.requires_grad else x.detach().requires_grad_(True)
    f(leaf).backward()
    return leaf.grad
