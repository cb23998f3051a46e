# expect: test_to_chw_float_layout, test_to_chw_float_values, test_hidden_to_chw_float
# Axes reordered, but the uint8 values are neither converted nor scaled.
def to_chw_float(img):
    return torch.from_numpy(img).permute(2, 0, 1)
