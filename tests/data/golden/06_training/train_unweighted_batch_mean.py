# expect: test_train_one_epoch_loss, test_hidden_training_loop
# The mean of the batch losses, ignoring that the last batch is smaller.
def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    losses = []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)
