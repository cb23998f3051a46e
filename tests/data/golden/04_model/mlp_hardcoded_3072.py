# expect: test_mlp_forward, test_mlp_on_device, test_hidden_mlp_sizes, test_mlp_input_shapes
# public-only: test_mlp_input_shapes
# Flattens to a hard-coded 3072 features instead of in_features.
_Reference = MLP


class MLP(_Reference):
    def forward(self, x):
        return self.layers[1:](x.reshape(-1, 3072))
