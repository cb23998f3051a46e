# expect: test_transforms
# The transform is applied to the numpy array, before the PIL image is made from it.
_Base = CIFAR10Dataset

class CIFAR10Dataset(_Base):
    def __getitem__(self, index):
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        else:
            image = Image.fromarray(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
