# expect: test_train_transform_tensor, test_train_transform_matches, test_hidden_train_transform
# The training transform is the evaluation transform: nothing random.
def build_train_transform():
    return build_eval_transform()
