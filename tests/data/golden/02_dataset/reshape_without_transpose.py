# expect: test_item_images, test_transforms, test_hidden_items_across_batches
# Each row reshaped straight to (32, 32, 3): the channels are scrambled.
_Base = CIFAR10Dataset

class CIFAR10Dataset(_Base):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.data = np.ascontiguousarray(self.data.transpose(0, 3, 1, 2)).reshape(-1, 32, 32, 3)
