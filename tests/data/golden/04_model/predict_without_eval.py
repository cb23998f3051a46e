# expect: test_predict_eval_no_grad
# No eval(): Dropout stays active during prediction.
def predict(model, x):
    with torch.no_grad():
        probabilities = torch.softmax(model(x), dim=1)
    return probabilities, probabilities.argmax(dim=1)
