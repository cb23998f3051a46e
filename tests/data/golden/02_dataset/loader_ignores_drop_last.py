# expect: test_make_loader, test_hidden_loader
# make_loader forgets drop_last.
def make_loader(dataset, batch_size, shuffle=False, drop_last=False, num_workers=0):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers)
