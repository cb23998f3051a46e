# expect: test_gradient_leaves_x, test_hidden_gradient
# clone() without detach(): for an x that requires grad the copy is no leaf, backward fills the caller's
# x.grad instead of the copy's, and reading the copy's .grad (None) raises.
def gradient(f, x):
    x = x.clone().requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad.detach()
