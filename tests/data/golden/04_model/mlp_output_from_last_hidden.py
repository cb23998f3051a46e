# expect: test_mlp_layers, test_hidden_mlp_sizes
# The output layer takes its input size from hidden_sizes[-1]: right for every MLP with a hidden layer,
# but MLP(..., hidden_sizes=(), ...) raises IndexError instead of being flatten + one Linear.
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        self.output = nn.Linear(hidden_sizes[-1], num_classes)
        self.depth = len(hidden_sizes)
        width = in_features
        for i, size in enumerate(hidden_sizes):
            setattr(self, f"fc{i}", nn.Linear(width, size))
            width = size
        self.act = nn.ReLU()

    def forward(self, x):
        x = torch.flatten(x, start_dim=1)
        for i in range(self.depth):
            x = self.act(getattr(self, f"fc{i}")(x))
        return self.output(x)
