# expect: nothing
# A correct alternative: F.log_softmax and a one-hot mask.
import torch.nn.functional as _F

def cross_entropy(logits, targets):
    onehot = _F.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return -(onehot * _F.log_softmax(logits, dim=1)).sum(dim=1).mean()
