# expect: test_to_device_containers, test_to_device_values
# Keeps only the tensors: numbers, strings and None are dropped from lists and tuples.
def to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch if isinstance(v, (torch.Tensor, list, tuple, dict)))
    return batch
