# expect: test_eval_transform, test_hidden_eval_transform
# The evaluation transform stops after ToTensor.
def build_eval_transform():
    return transforms.Compose([transforms.ToTensor()])
