# expect: test_to_chw_float_values, test_hidden_to_chw_float
# Forgets to divide by 255: values stay in 0..255.
def to_chw_float(img):
    return torch.from_numpy(img).permute(2, 0, 1).float()
