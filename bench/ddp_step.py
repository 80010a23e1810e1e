# Python peer of bench/data_parallel.tcl: DistributedDataParallel on Gloo,
# 2 processes on 127.0.0.1, the same models, shards and step.
#   /usr/bin/python3 bench/ddp_step.py THREADS STEPS -> "NAME SECONDS FIRST" per step (rank 0):
#   steady-state seconds per step, and the first step's seconds
import os, socket, sys, time
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

def models():
    torch.manual_seed(0)
    return {
        "mlp_small": (nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4)),
                      torch.randn(64, 20), torch.randint(4, (64,))),
        "mlp": (nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)),
                torch.randn(64, 784), torch.randint(10, (64,))),
        "cnn": (nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(32 * 7 * 7, 10)),
                torch.randn(64, 1, 28, 28), torch.randint(10, (64,))),
    }

def worker(rank, world, port, threads, steps):
    torch.set_num_threads(threads)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    # 2.4+ asks for a libuv TCPStore; Debian's 2.6 has none (1.13 ignores this).
    os.environ.setdefault("USE_LIBUV", "0")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    for name, (model, x, y) in models().items():
        n = 10 * steps if name == "mlp_small" else steps  # short steps: more of them
        model = DDP(model)
        # this rank's half of the global batch of 64
        xs, ys = x[rank::world], y[rank::world]
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        def step():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xs), ys)
            loss.backward()
            opt.step()
            return loss.item()
        dist.barrier()
        t0 = time.perf_counter()
        step()
        first = time.perf_counter() - t0
        for _ in range(10):
            step()
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        dist.barrier()
        if rank == 0:
            print(name, (time.perf_counter() - t0) / n, first, flush=True)
    dist.destroy_process_group()

if __name__ == "__main__":
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(2, port, threads, steps), nprocs=2)
