# expect: test_cross_entropy_grad, test_hidden_cross_entropy
# Computed in numpy and wrapped back into a tensor: no gradient flows.
import numpy as np

def cross_entropy(logits, targets):
    x = logits.detach().numpy().astype(np.float64)
    x = x - x.max(axis=1, keepdims=True)
    log_probs = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return torch.tensor(-log_probs[np.arange(len(targets)), targets.numpy()].mean(), dtype=torch.float32)
