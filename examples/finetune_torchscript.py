# Step 1 of examples/finetune_torchscript.tcl: a small CNN with BatchNorm, trained
# briefly in Python on the first Fashion-MNIST images, then scripted and saved
# with torch.jit.save. examples/models/fashion_cnn_scripted.pt was made by
#   python3 examples/finetune_torchscript.py examples/models/fashion_cnn_scripted.pt
# and is what the example uses where Python's torch is not installed.
#
#   python3 finetune_torchscript.py OUT.pt ?DATA_DIR? ?IMAGES?
import gzip
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims)]
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape).copy())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))

    @torch.jit.export
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Class indices: a method besides forward, for torch::jit_call."""
        return self.forward(x).argmax(1)


def main():
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    torch.manual_seed(0)
    x = ((idx(f"{data}/train-images-idx3-ubyte.gz")[:n].float() / 255 - 0.2860) / 0.3530).unsqueeze(1)
    y = idx(f"{data}/train-labels-idx1-ubyte.gz")[:n].long()
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    net.train()
    for i in range(0, n - 63, 64):  # one short epoch: a rough start to fine-tune from
        opt.zero_grad()
        F.cross_entropy(net(x[i:i + 64]), y[i:i + 64]).backward()
        opt.step()
    torch.jit.script(net).save(out)


if __name__ == "__main__":
    main()
