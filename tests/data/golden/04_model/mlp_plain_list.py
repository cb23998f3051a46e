# expect: test_mlp_layers, test_mlp_forward, test_hidden_mlp_sizes
# Layers kept in a plain Python list: they are not registered as submodules.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        widths = [in_features, *hidden_sizes, num_classes]
        self.linears = [nn.Linear(a, b) for a, b in zip(widths, widths[1:])]

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.linears[:-1]:
            x = torch.relu(layer(x))
        return self.linears[-1](x)
