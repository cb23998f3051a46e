# expect: test_len_train
# `train=False` as the default: CIFAR10Dataset(root) is the test split (right wherever train is given).
_Base = CIFAR10Dataset

class CIFAR10Dataset(_Base):
    def __init__(self, root, train=False, transform=None, target_transform=None):
        super().__init__(root, train=train, transform=transform, target_transform=target_transform)
