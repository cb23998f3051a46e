# expect: test_train_one_epoch_mode
# model.train() is never called.
def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    total, seen = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        seen += len(targets)
    return total / seen
