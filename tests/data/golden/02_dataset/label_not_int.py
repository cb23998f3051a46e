# expect: test_item_targets, test_hidden_items_across_batches
# Labels come back as numpy integers, not int.
_Base = CIFAR10Dataset

class CIFAR10Dataset(_Base):
    def __getitem__(self, index):
        image, target = super().__getitem__(index)
        return image, np.int64(target) if self.target_transform is None else target
