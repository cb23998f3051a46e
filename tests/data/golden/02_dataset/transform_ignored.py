# expect: test_transforms
# transform and target_transform are stored but never applied.
_Base = CIFAR10Dataset

class CIFAR10Dataset(_Base):
    def __getitem__(self, index):
        return Image.fromarray(self.data[index]), int(self.targets[index])
