# expect: test_train_transform_matches, test_hidden_train_transform
# GaussianBlur with a fixed sigma of 1.0 instead of the range (0.1, 2.0).
def build_train_transform():
    return transforms.Compose([transforms.RandomAffine(degrees=10, translate=(0.1, 0.1)),
                               transforms.GaussianBlur(kernel_size=3, sigma=1.0),
                               transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
