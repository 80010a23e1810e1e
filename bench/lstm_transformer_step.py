# Python peer of bench/lstm_transformer_step.tcl: the same models, sizes and step.
#   /usr/bin/python3 bench/lstm_transformer_step.py THREADS STEPS
#   -> lines "NAME first SECONDS" and "NAME steady SECONDS" (per step)
import sys, time
import torch
import torch.nn as nn

threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)


class Lstm(nn.Module):  # sequential(lstm, linear): the LSTM passes on its output
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


def lstm_step(model, opt, x, y):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x).reshape(-1, 10), y)
    loss.backward()
    opt.step()
    return loss.item()


def enc_step(model, opt, x, y):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def bench(name, make, step, x, y):
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    step(model, opt, x, y)
    print(name, "first", time.perf_counter() - t0)
    for _ in range(5):
        step(model, opt, x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        step(model, opt, x, y)
    print(name, "steady", (time.perf_counter() - t0) / steps)


bench("lstm", Lstm, lstm_step, torch.randn(32, 50, 64), torch.randint(10, (32 * 50,)))
bench("encoder_layer", lambda: nn.TransformerEncoderLayer(128, 4, 512, 0.1), enc_step,
      torch.randn(50, 32, 128), torch.randn(50, 32, 128))
