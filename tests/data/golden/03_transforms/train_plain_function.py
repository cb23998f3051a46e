# expect: test_train_transform_tensor
# The right steps in the right order, applied by a plain function instead of a transforms.Compose.
def build_train_transform():
    affine = transforms.RandomAffine(degrees=10, translate=(0.1, 0.1))
    blur = transforms.GaussianBlur(kernel_size=3, sigma=(0.1, 2.0))
    to_tensor, normalize = transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)
    return lambda image: normalize(to_tensor(blur(affine(image))))
