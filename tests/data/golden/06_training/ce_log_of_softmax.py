# expect: test_cross_entropy_stable, test_hidden_cross_entropy
# log(softmax(x)): softmax is stable, but a probability that underflows to 0 gives log(0) = -inf.
def cross_entropy(logits, targets):
    probs = torch.softmax(logits, dim=1)
    return -torch.log(probs[torch.arange(len(targets)), targets]).mean()
