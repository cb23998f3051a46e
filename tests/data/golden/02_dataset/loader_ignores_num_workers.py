# expect: test_make_loader
# num_workers is accepted but never passed on to the DataLoader.
def make_loader(dataset, batch_size, shuffle=False, drop_last=False, num_workers=0):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
