# expect: test_to_chw_float_values, test_hidden_to_chw_float
# reshape instead of permute: the right shape with scrambled values.
def to_chw_float(img):
    h, w, c = img.shape
    return torch.from_numpy(img).reshape(c, h, w).float() / 255
