# expect: test_target_transform, test_hidden_target_transform
# The label only becomes a float tensor: no one-hot vector.
def build_target_transform(num_classes=10):
    return transforms.Lambda(lambda y: torch.tensor(y, dtype=torch.float32))
