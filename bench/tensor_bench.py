# Python side of tensor_bench.sh: prints "key microseconds" lines.
import sys, time
if len(sys.argv) > 1 and sys.argv[1] == "import":
    t0 = time.perf_counter()
    import torch
    print("import", (time.perf_counter() - t0) * 1e6)
    sys.exit(0)
import random, warnings
import torch

def best(reps, fn):
    b = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b * 1e6

# Small op: the result of each call is freed when the next call rebinds it.
a = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float32)
def adds(n):
    add = torch.add
    for _ in range(n):
        add(a, a)
adds(20000)
n = 1000
print("small_add", best(300, lambda: adds(n)) / n)

# First call on a fresh list (median of 5 lists), then steady state on one list.
firsts = []
for _ in range(5):
    data = [random.random() for _ in range(1000000)]
    t0 = time.perf_counter()
    torch.tensor(data, dtype=torch.float32)
    firsts.append((time.perf_counter() - t0) * 1e6)
print("create_1M_first", sorted(firsts)[2])
print("create_1M_steady", best(5, lambda: torch.tensor(data, dtype=torch.float32)))

t = torch.rand(1000000)
def tolist():
    l = t.tolist()
    del l
print("to_list_1M", best(10, tolist))

# 64 MiB. torch.frombuffer alone would alias Python's immutable bytes (it warns);
# the owning equivalent of tensor_from_bytes is frombuffer + clone.
b = torch.rand(16777216).numpy().tobytes()
warnings.simplefilter("ignore")
print("from_bytes_64MiB", best(5, lambda: torch.frombuffer(b, dtype=torch.float32).clone()))
print("info_frombuffer_alias", best(5, lambda: torch.frombuffer(b, dtype=torch.float32)))
