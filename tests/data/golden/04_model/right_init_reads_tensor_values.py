# expect: nothing
# Correct, though its constructor reads tensor values (it cannot be built on PyTorch's meta device,
# where the layer-shape probe builds models first): the probe builds it on the CPU instead.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        widths = torch.tensor([in_features, *hidden_sizes, num_classes])
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1].tolist(), widths[1:].tolist()):
            layers += [nn.Linear(int(a), int(b)), nn.ReLU()]
        self.layers = nn.Sequential(*layers[:-1])
        self.checked = bool((widths > 0).all().item())

    def forward(self, x):
        return self.layers(x)
