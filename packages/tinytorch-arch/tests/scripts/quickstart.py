"""PyTorch's "Learn the Basics" quickstart, written for tinytorch and TinyDigits.

Only the imports differ from the PyTorch script, and the data: TinyDigits (8x8 digits,
shipped offline) instead of FashionMNIST. The rest is PyTorch's idiom line for line:
a dataset and its DataLoaders, an ``nn.Module`` subclass moved ``.to(device)``,
``print(model)``, the train and test loops (``len(dataloader.dataset)``,
``optimizer.zero_grad()``, ``loss.item()``, ``no_grad()``, counting correct answers with
``(pred.argmax(1) == y).type(float32).sum().item()``), saving and loading the state
dict, and naming a prediction with ``classes[pred[0].argmax(0)]``.
"""

from tinytorch import nn
from tinytorch.core import float32, manual_seed, no_grad
from tinytorch.data import DataLoader, TinyDigitsDataset
from tinytorch.optim import SGD
from tinytorch.training import load, save

manual_seed(0)
training_data = TinyDigitsDataset("train")
test_data = TinyDigitsDataset("test")

batch_size = 64
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True, seed=0)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = SGD(model.parameters(), lr=0.1)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 10 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(float32).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


epochs = 10
for t in range(epochs):
    print(f"Epoch {t + 1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")

save(model.state_dict(), "model.pth")
print("Saved PyTorch Model State to model.pth")

model = NeuralNetwork().to(device)
model.load_state_dict(load("model.pth", weights_only=True))

classes = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

model.eval()
x, y = next(iter(test_dataloader))
with no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y[0]]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
