# expect: test_train_one_epoch_loss, test_hidden_training_loop
# Returns the last batch's loss instead of the mean over the epoch.
def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
    return loss.item()
