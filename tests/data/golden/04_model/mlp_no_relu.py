# expect: test_mlp_forward, test_hidden_mlp_sizes
# Linear layers only: no ReLU between them.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        widths = [in_features, *hidden_sizes, num_classes]
        self.net = nn.Sequential(nn.Flatten(), *[nn.Linear(a, b) for a, b in zip(widths, widths[1:])])

    def forward(self, x):
        return self.net(x)
