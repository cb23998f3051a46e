# expect: test_train_transform_matches, test_hidden_train_transform
# RandomAffine with other parameters (15 degrees, 20% translation).
def build_train_transform():
    return transforms.Compose([transforms.RandomAffine(degrees=15, translate=(0.2, 0.2)),
                               transforms.GaussianBlur(kernel_size=3, sigma=(0.1, 2.0)),
                               transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
