# expect: nothing
# Correct alternatives: positional arguments, degrees as a range, a one-hot by scatter_.
def build_train_transform():
    steps = [transforms.RandomAffine((-10, 10), (0.1, 0.1)), transforms.GaussianBlur(3, (0.1, 2.0)),
             transforms.ToTensor(), transforms.Normalize(mean=CIFAR10_MEAN, std=CIFAR10_STD)]
    return transforms.Compose(steps)


def build_target_transform(num_classes=10):
    def one_hot(label):
        return torch.zeros(num_classes).scatter_(0, torch.tensor([label]), 1.0)
    return transforms.Lambda(one_hot)
