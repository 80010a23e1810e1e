# The Python side of bench/instructions.sh: torch.add on two 4-element float32
# tensors in a function, each result released when the next replaces it: 200
# warm-up calls, then N1 and N2 calls, each run between two marks (bench_mark,
# through bench_mark_py of the library in $BENCH_MARK_LIB, where callgrind
# dumps its counts).
import ctypes
import os
import sys
import torch

a = torch.tensor([1.0, 2.0, 3.0, 4.0])
b = torch.tensor([1.0, 2.0, 3.0, 4.0])
lib = os.environ.get("BENCH_MARK_LIB")
mark = ctypes.CDLL(lib).bench_mark_py if lib else (lambda: None)


def run(n):
    add = torch.add
    for _ in range(n):
        add(a, b)


run(200)
for n in sys.argv[1:]:
    mark()
    run(int(n))
mark()
