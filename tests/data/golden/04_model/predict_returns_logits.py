# expect: test_predict_outputs
# Returns the logits as the "probabilities".
def predict(model, x):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train(was_training)
    return logits, logits.argmax(dim=1)
