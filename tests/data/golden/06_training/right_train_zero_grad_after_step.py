# expect: nothing
# A correct alternative: gradients cleared after each step with set_to_none, sizes from inputs.size(0).
def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    optimizer.zero_grad(set_to_none=True)
    running, count = 0.0, 0
    for batch in loader:
        inputs, targets = (t.to(device) for t in batch)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        running += loss.detach().item() * inputs.size(0)
        count += inputs.size(0)
    return running / count
