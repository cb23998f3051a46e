# expect: test_evaluate_no_grad
# No torch.no_grad(): every forward pass builds a graph.
def evaluate(model, loader, loss_fn, device="cpu"):
    was_training = model.training
    model.eval()
    total, correct, seen = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        total += loss_fn(outputs, targets).item() * len(targets)
        correct += (outputs.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    model.train(was_training)
    return {"loss": total / seen, "accuracy": correct / seen}
