# expect: nothing
# Correct alternative: torch.func.grad, which never touches the caller's tensor.
def gradient(f, x):
    return torch.func.grad(f)(x)
