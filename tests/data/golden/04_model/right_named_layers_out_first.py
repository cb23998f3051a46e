# expect: nothing
# Correct alternative: named layers via setattr, the output layer registered before the hidden ones
# (its input size minding an empty hidden_sizes: mlp_output_from_last_hidden.py does not).
class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        self.output = nn.Linear(hidden_sizes[-1] if hidden_sizes else in_features, num_classes)
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


def predict(model, x):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
    if was_training:
        model.train()
    return torch.softmax(logits, 1), torch.argmax(logits, 1)
