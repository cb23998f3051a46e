# expect: test_evaluate_eval_mode
# model.eval() is never called.
def evaluate(model, loader, loss_fn, device="cpu"):
    total, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            total += loss_fn(outputs, targets).item() * len(targets)
            correct += (outputs.argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    return {"loss": total / seen, "accuracy": correct / seen}
