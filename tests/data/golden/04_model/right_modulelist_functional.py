# expect: nothing
# Correct alternatives: a ModuleList with F.relu in forward, view to flatten; inference_mode and max in predict.
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, in_features=3072, hidden_sizes=(512, 256), num_classes=10):
        super().__init__()
        sizes = [in_features, *hidden_sizes]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = nn.Linear(sizes[-1], num_classes)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)


def count_parameters(model):
    total = 0
    for parameter in model.parameters():
        if parameter.requires_grad:
            total += parameter.numel()
    return total


def predict(model, x):
    mode = model.training
    model.eval()
    with torch.inference_mode():
        probabilities = F.softmax(model(x), dim=-1)
    model.train(mode)
    return probabilities, probabilities.max(dim=1).indices
