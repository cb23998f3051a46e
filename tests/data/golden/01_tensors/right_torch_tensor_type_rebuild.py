# expect: nothing
# Correct alternatives: torch.tensor + permute + div, containers rebuilt with type(batch)(...).
def to_chw_float(img):
    return torch.tensor(img).permute(2, 0, 1).div(255)


def stack_batch(images):
    return torch.stack(tuple(images))


def to_device(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device=device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(item, device) for item in batch)
    if isinstance(batch, dict):
        return type(batch)((k, to_device(v, device)) for k, v in batch.items())
    return batch
