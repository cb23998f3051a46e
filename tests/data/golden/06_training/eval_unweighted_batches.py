# expect: test_evaluate_values, test_hidden_training_loop
# The mean of per-batch loss and accuracy, ignoring the smaller last batch.
def evaluate(model, loader, loss_fn, device="cpu"):
    was_training = model.training
    model.eval()
    losses, accuracies = [], []
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            losses.append(loss_fn(outputs, targets).item())
            accuracies.append((outputs.argmax(dim=1) == targets).float().mean().item())
    model.train(was_training)
    return {"loss": sum(losses) / len(losses), "accuracy": sum(accuracies) / len(accuracies)}
