# Python peer of bench/train_step.tcl: the same models, data sizes and step.
#   /usr/bin/python3 bench/train_step.py THREADS STEPS  -> "mlp SECONDS" / "cnn SECONDS" per step
import sys, time
import torch
import torch.nn as nn

threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)

def small():  # examples/train_mlp.tcl's model
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))

def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))

def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))

def bench(model, x, y, steps=steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    for _ in range(10):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps

y = torch.randint(10, (64,))
# the small model's step is short: 10x the steps for a stable time (as in the Tcl side)
print("mlp_small", bench(small(), torch.randn(64, 20), torch.randint(4, (64,)), 10 * steps))
print("mlp", bench(mlp(), torch.randn(64, 784), y))
print("cnn", bench(cnn(), torch.randn(64, 1, 28, 28), y))
