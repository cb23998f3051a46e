# expect: nothing
# Correct alternatives: ToTensor, cat of unsqueezed tensors, backward() on a detached leaf.
import torchvision.transforms as transforms


def to_chw_float(img):
    return transforms.ToTensor()(img)


def stack_batch(images):
    return torch.cat([image.unsqueeze(0) for image in images], dim=0)


def gradient(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad
