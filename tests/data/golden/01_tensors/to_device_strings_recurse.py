# expect: test_to_device_containers, test_to_device_values
# Treats every Sequence as a container: a string recurses forever.
from collections.abc import Mapping, Sequence


def to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, Sequence):
        return type(batch)(to_device(v, device) for v in batch)
    return batch
