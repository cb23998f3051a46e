# expect: test_mlp_forward, test_hidden_mlp_sizes
# forward ends in a softmax instead of returning logits.
_Reference = MLP


class MLP(_Reference):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)
