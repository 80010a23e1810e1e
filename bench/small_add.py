# The Python side of bench/instructions.sh: N calls of torch.add on two 4-element
# float32 tensors in a function; each result is released when the next replaces it.
import sys
import torch

a = torch.tensor([1.0, 2.0, 3.0, 4.0])
b = torch.tensor([1.0, 2.0, 3.0, 4.0])


def run(n):
    add = torch.add
    for _ in range(n):
        add(a, b)


run(200)
run(int(sys.argv[1]))
