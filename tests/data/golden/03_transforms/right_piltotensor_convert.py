# expect: nothing
# Correct alternatives: PILToTensor + ConvertImageDtype instead of ToTensor, kernel size as a pair.
def build_eval_transform():
    return transforms.Compose([transforms.PILToTensor(), transforms.ConvertImageDtype(torch.float32),
                               transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])


def build_train_transform():
    return transforms.Compose([transforms.RandomAffine(degrees=10, translate=(0.1, 0.1)),
                               transforms.GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0)),
                               transforms.PILToTensor(), transforms.ConvertImageDtype(torch.float),
                               transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
