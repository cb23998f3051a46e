# expect: test_predict_restores_mode
# Always switches back to train mode, even when the model was in eval mode before.
def predict(model, x):
    model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(x), dim=1)
    model.train()
    return probabilities, probabilities.argmax(dim=1)
