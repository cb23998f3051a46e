# expect: nothing
# A correct alternative: torch.inference_mode, sums kept as tensors, try/finally for the mode.
def evaluate(model, loader, loss_fn, device="cpu"):
    mode = model.training
    model.eval()
    try:
        with torch.inference_mode():
            loss_sum = torch.zeros(())
            hits, count = 0, 0
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                logits = model(inputs)
                loss_sum += loss_fn(logits, targets).cpu() * targets.numel()
                hits += int((logits.argmax(1) == targets).sum())
                count += targets.numel()
        return {"loss": loss_sum.item() / count, "accuracy": hits / count}
    finally:
        model.train(mode)
