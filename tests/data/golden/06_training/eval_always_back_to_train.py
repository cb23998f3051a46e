# expect: test_evaluate_restores_mode
# model.train() at the end even when the model came in eval mode.
_reference_evaluate = evaluate

def evaluate(model, loader, loss_fn, device="cpu"):
    result = _reference_evaluate(model, loader, loss_fn, device)
    model.train()
    return result
