# expect: test_eval_transform, test_hidden_eval_transform
# The evaluation transform augments like the training one.
def build_eval_transform():
    return build_train_transform()
