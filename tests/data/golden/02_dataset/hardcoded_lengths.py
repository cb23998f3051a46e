# expect: test_hidden_lengths, test_len_train
# public-only: test_len_train
# Reads the data right, but says the training split has the public data set's 1000 images.
_Reference = CIFAR10Dataset


class CIFAR10Dataset(_Reference):
    def __init__(self, root, train=True, transform=None, target_transform=None):
        super().__init__(root, train, transform, target_transform)
        self.is_train = train

    def __len__(self):
        return 1000 if self.is_train else len(self.data)
