# expect: test_train_transform_tensor, test_train_transform_matches, test_hidden_train_transform
# Normalize before ToTensor: it gets a PIL image.
def build_train_transform():
    return transforms.Compose([transforms.RandomAffine(degrees=10, translate=(0.1, 0.1)),
                               transforms.GaussianBlur(kernel_size=3, sigma=(0.1, 2.0)),
                               transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD), transforms.ToTensor()])
