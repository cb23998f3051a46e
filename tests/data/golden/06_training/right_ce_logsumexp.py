# expect: nothing
# A correct alternative: torch.logsumexp and gather.
def cross_entropy(logits, targets):
    picked = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
    return (torch.logsumexp(logits, dim=1) - picked).mean()
