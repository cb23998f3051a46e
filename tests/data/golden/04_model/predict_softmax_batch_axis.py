# expect: test_predict_outputs
# softmax over the batch axis.
def predict(model, x):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train(was_training)
    return torch.softmax(logits, dim=0), logits.argmax(dim=1)
