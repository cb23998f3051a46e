# expect: nothing
# Correct alternatives: Normalize with lists, a one-hot as a row of the identity matrix.
def build_eval_transform():
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(list(CIFAR10_MEAN), list(CIFAR10_STD))])


def build_target_transform(num_classes=10):
    return transforms.Lambda(lambda y: torch.eye(num_classes)[y])
