# expect: test_eval_transform
# The right steps, composed by hand in a plain function instead of a transforms.Compose.
def build_eval_transform():
    to_tensor = transforms.ToTensor()
    normalize = transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)
    return lambda image: normalize(to_tensor(image))
