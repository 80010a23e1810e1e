# Python peer of examples/train_fashion_mnist.tcl for bench/fashion_mnist.tcl: the same
# CNN, data (the first TRAIN Fashion-MNIST images, normalized the same way), batch,
# optimizer and per-step work (loss and correct count read back every step).
#   /usr/bin/python3 bench/fashion_mnist.py THREADS EPOCHS TRAIN BATCH DATA_DIR
#   -> one line per epoch: "epoch E SECONDS LOSS"
import gzip, os, sys, time
import torch
import torch.nn as nn

threads, epochs, ntrain, batch, data = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)

def idx(name, limit):
    b = gzip.open(os.path.join(data, name)).read()
    nd = b[3]
    shape = [int.from_bytes(b[4 + 4 * d:8 + 4 * d], "big") for d in range(nd)]
    t = torch.frombuffer(bytearray(b[4 + 4 * nd:]), dtype=torch.uint8).reshape(shape)
    return t[:limit]

x = ((idx("train-images-idx3-ubyte.gz", ntrain).float() / 255 - 0.2860) / 0.3530).unsqueeze(1)
y = idx("train-labels-idx1-ubyte.gz", ntrain).long()
n = x.shape[0]

torch.manual_seed(1)
model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.001)
lossf = nn.CrossEntropyLoss()
for epoch in range(1, epochs + 1):
    model.train()
    g = torch.Generator().manual_seed(1 + epoch)
    order = torch.randperm(n, generator=g)
    t0 = time.perf_counter()
    total, steps, correct = 0.0, 0, 0
    for i in range(0, n - batch + 1, batch):
        idxs = order[i:i + batch]
        xb, yb = x.index_select(0, idxs), y.index_select(0, idxs)
        opt.zero_grad()
        logits = model(xb)
        loss = lossf(logits, yb)
        loss.backward()
        opt.step()
        total += loss.item()
        correct += (logits.argmax(1) == yb).sum().item()
        steps += 1
    print("epoch %d %.3f %.4f" % (epoch, time.perf_counter() - t0, total / steps), flush=True)
