# expect: nothing
# Correct alternative: model.forward(x) called directly, no_grad around everything, classes from torch.max.
def predict(model, x):
    mode = model.training
    with torch.no_grad():
        model.eval()
        logits = model.forward(x)
        probabilities = logits.softmax(dim=1)
        _, classes = torch.max(probabilities, dim=1)
    model.train(mode)
    return probabilities, classes
