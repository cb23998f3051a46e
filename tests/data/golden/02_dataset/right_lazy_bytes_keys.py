# expect: nothing
# A correct alternative: encoding="bytes" keys, labels as an array, images decoded lazily per item.
class CIFAR10Dataset(Dataset):
    def __init__(self, root, train=True, transform=None, target_transform=None):
        folder = os.path.join(root, "cifar-10-batches-py")
        names = ["data_batch_%d" % i for i in range(1, 6)] if train else ["test_batch"]
        rows, labels = [], []
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                d = pickle.load(f, encoding="bytes")
            rows.append(d[b"data"])
            labels.append(np.array(d[b"labels"]))
        self.rows = np.vstack(rows)
        self.labels = np.concatenate(labels)
        with open(os.path.join(folder, "batches.meta"), "rb") as f:
            self.classes = [n.decode() for n in pickle.load(f, encoding="bytes")[b"label_names"]]
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return self.rows.shape[0]

    def __getitem__(self, index):
        img = Image.fromarray(np.moveaxis(self.rows[index].reshape(3, 32, 32), 0, -1))
        label = int(self.labels[index])
        return (self.transform(img) if self.transform else img,
                self.target_transform(label) if self.target_transform else label)
