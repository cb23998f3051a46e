# expect: test_evaluate_restores_mode
# The model is left in eval mode.
_reference_evaluate = evaluate

def evaluate(model, loader, loss_fn, device="cpu"):
    result = _reference_evaluate(model, loader, loss_fn, device)
    model.eval()
    return result
