# expect: test_cross_entropy_value, test_cross_entropy_stable, test_cross_entropy_grad, test_hidden_cross_entropy
# The sum over the batch instead of the mean.
def cross_entropy(logits, targets):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs[torch.arange(len(targets)), targets].sum()
