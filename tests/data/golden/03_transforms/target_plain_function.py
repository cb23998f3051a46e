# expect: test_target_transform
# A right one-hot function, returned as it is instead of wrapped in transforms.Lambda.
def build_target_transform(num_classes=10):
    def one_hot(label):
        vector = torch.zeros(num_classes, dtype=torch.float32)
        vector[label] = 1.0
        return vector
    return one_hot
