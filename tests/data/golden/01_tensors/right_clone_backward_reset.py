# expect: nothing
# Correct alternatives: a float cast before permute, a clone cut from x's graph with backward(), Mapping/list/tuple by type.
# (clone() alone keeps an x that requires grad in the graph: gradient_clone_keeps_graph.py)
def to_chw_float(img):
    return torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)


def gradient(f, x):
    x = x.clone().detach().requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad.detach()
