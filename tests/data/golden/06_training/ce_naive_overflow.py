# expect: test_cross_entropy_stable, test_hidden_cross_entropy
# exp() of the raw logits: overflows to inf for logits of 1000.
def cross_entropy(logits, targets):
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    return -probs[torch.arange(len(targets)), targets].log().mean()
