# expect: test_len_test, test_item_images, test_item_targets, test_transforms, test_hidden_lengths, test_hidden_items_across_batches
# The test split reads a training batch instead of test_batch.
_Base = CIFAR10Dataset

class CIFAR10Dataset(_Base):
    def __init__(self, root, train=True, transform=None, target_transform=None):
        super().__init__(root, train=True, transform=transform, target_transform=target_transform)
        if not train:
            self.data, self.targets = self.data[: len(self.data) // 5], self.targets[: len(self.targets) // 5]
