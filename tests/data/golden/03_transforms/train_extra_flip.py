# expect: test_train_transform_matches, test_hidden_train_transform
# An extra RandomHorizontalFlip that the exercise did not ask for.
def build_train_transform():
    return transforms.Compose([transforms.RandomHorizontalFlip(),
                               transforms.RandomAffine(degrees=10, translate=(0.1, 0.1)),
                               transforms.GaussianBlur(kernel_size=3, sigma=(0.1, 2.0)),
                               transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
