# expect: nothing
# Correct alternatives: a float cast before permute, a cloned leaf with backward(), Mapping/list/tuple by type.
def to_chw_float(img):
    return torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)


def gradient(f, x):
    x = x.clone().requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad.detach()
