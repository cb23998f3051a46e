# expect: test_predict_eval_no_grad
# Autograd stays on during the forward pass (the result is detached only afterwards).
def predict(model, x):
    was_training = model.training
    model.eval()
    probabilities = torch.softmax(model(x), dim=1).detach()
    model.train(was_training)
    return probabilities, probabilities.argmax(dim=1)
