# expect: test_cross_entropy_stable, test_hidden_cross_entropy
# Subtracts the maximum of the whole batch, not of each row: a row far below it underflows.
def cross_entropy(logits, targets):
    shifted = logits - logits.max()
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs[torch.arange(len(targets)), targets].mean()
