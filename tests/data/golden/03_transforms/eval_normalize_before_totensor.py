# expect: test_eval_transform, test_hidden_eval_transform
# Normalize is applied to the PIL image, before ToTensor.
def build_eval_transform():
    return transforms.Compose([transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD), transforms.ToTensor()])
