# expect: test_make_loader
# shuffle=True as the default (right wherever shuffle is given).
def make_loader(dataset, batch_size, shuffle=True, drop_last=False, num_workers=0):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, num_workers=num_workers)
