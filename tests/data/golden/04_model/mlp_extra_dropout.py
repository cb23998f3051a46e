# expect: test_mlp_forward, test_mlp_input_shapes, test_hidden_mlp_sizes
# A Dropout after each ReLU that the exercise did not ask for: a new model's forward is random.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(0.5)]
            width = size
        self.net = nn.Sequential(*layers, nn.Linear(width, num_classes))

    def forward(self, x):
        return self.net(x)
