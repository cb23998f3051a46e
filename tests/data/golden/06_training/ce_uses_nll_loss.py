# expect: test_cross_entropy_own
# log_softmax is fine, but nll_loss is PyTorch's own loss again (imported by name).
from torch.nn.functional import log_softmax as _log_softmax, nll_loss as _nll_loss

def cross_entropy(logits, targets):
    return _nll_loss(_log_softmax(logits, dim=1), targets)
