# expect: test_predict_restores_mode
# The model is left in eval mode.
def predict(model, x):
    model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(x), dim=1)
    return probabilities, probabilities.argmax(dim=1)
