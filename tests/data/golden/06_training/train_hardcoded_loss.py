# expect: test_hidden_training_loop, test_train_one_epoch_loss
# public-only: test_train_one_epoch_loss
# Ignores loss_fn and always uses plain cross-entropy.
def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    criterion = nn.CrossEntropyLoss()
    total, seen = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        seen += len(targets)
    return total / seen
