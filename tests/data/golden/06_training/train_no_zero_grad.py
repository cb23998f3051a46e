# expect: test_train_one_epoch_updates, test_hidden_training_loop, test_train_one_epoch_loss
# public-only: test_train_one_epoch_loss
# zero_grad is missing: gradients accumulate from batch to batch.
def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    total, seen = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        seen += len(targets)
    return total / seen
