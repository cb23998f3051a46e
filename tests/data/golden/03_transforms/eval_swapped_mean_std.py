# expect: test_eval_transform, test_hidden_eval_transform
# The mean and the standard deviation are passed the wrong way round.
def build_eval_transform():
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(CIFAR10_STD, CIFAR10_MEAN)])
