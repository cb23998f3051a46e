# expect: test_target_transform, test_hidden_target_transform
# One zeros tensor made once and filled in place: earlier labels stay set.
def build_target_transform(num_classes=10):
    buffer = torch.zeros(num_classes)
    def one_hot(label):
        buffer[label] = 1.0
        return buffer
    return transforms.Lambda(one_hot)
