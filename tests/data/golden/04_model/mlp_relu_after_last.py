# expect: test_mlp_forward, test_hidden_mlp_sizes
# A ReLU after every Linear, the last one included.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for size in [*hidden_sizes, num_classes]:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
