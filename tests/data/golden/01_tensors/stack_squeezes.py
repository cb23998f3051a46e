# expect: test_stack_batch, test_hidden_stack_batch
# A squeeze after stacking drops the batch axis of a batch of one.
def stack_batch(images):
    return torch.stack(list(images)).squeeze()
