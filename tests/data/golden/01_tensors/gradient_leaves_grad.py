# expect: test_gradient_leaves_x, test_hidden_gradient
# Differentiates the caller's x itself: .grad stays on it and accumulates on a second call.
def gradient(f, x):
    x.requires_grad_()
    f(x).backward()
    return x.grad
