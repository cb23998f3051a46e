# expect: test_evaluate_eval_mode
# No default for device: right wherever device is given, but evaluate(model, loader, loss_fn) raises.
_reference_evaluate = evaluate

def evaluate(model, loader, loss_fn, device):
    return _reference_evaluate(model, loader, loss_fn, device=device)
