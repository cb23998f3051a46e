# expect: test_classes
# The label names are read in the test split's branch only: the training split has no `classes`.
class CIFAR10Dataset(Dataset):
    def __init__(self, root, train=True, transform=None, target_transform=None):
        folder = os.path.join(root, "cifar-10-batches-py")
        if train:
            names = [f"data_batch_{i}" for i in range(1, 6)]
        else:
            names = ["test_batch"]
            with open(os.path.join(folder, "batches.meta"), "rb") as f:
                self.classes = pickle.load(f, encoding="latin1")["label_names"]
        rows, labels = [], []
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            rows.append(entry["data"])
            labels.extend(entry["labels"])
        self.data = np.concatenate(rows).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.targets = labels
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image = Image.fromarray(self.data[index])
        target = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
