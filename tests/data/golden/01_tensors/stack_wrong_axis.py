# expect: test_stack_batch, test_hidden_stack_batch
# Stacked along axis 1: (C, N, H, W).
def stack_batch(images):
    return torch.stack(list(images), dim=1)
