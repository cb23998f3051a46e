# expect: test_mlp_layers, test_hidden_mlp_sizes
# `hidden_sizes or (512, 256)`: an empty hidden_sizes gets the default hidden layers instead of none.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        sizes = list(hidden_sizes) or [512, 256]
        layers = [nn.Flatten()]
        width = in_features
        for size in sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
