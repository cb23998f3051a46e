# expect: test_to_device_containers, test_to_device_values
# A dict comes back as the list of its moved values.
def to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return [to_device(v, device) for v in batch.values()]
    if isinstance(batch, list):
        return [to_device(v, device) for v in batch]
    if isinstance(batch, tuple):
        return tuple(to_device(v, device) for v in batch)
    return batch
