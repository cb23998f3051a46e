# expect: test_to_chw_float_layout, test_to_chw_float_values, test_hidden_to_chw_float
# One transpose of the first and last axes: (H, W, C) becomes (C, W, H).
def to_chw_float(img):
    return torch.from_numpy(img).transpose(0, 2).float() / 255
