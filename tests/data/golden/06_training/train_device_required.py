# expect: test_train_one_epoch_mode
# No default for device: right wherever device is given, but train_one_epoch(model, loader, loss_fn, optimizer) raises.
_reference_train = train_one_epoch

def train_one_epoch(model, loader, loss_fn, optimizer, device):
    return _reference_train(model, loader, loss_fn, optimizer, device=device)
