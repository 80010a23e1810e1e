# The Python peer of the all_reduce benchmark: torch.distributed on Gloo, run
# by tcl/torchrun.tcl. Prints "size_bytes seconds_per_call" on rank 0.
import os
import time
import torch
import torch.distributed as dist

# 2.4+ asks for a libuv TCPStore; Debian's 2.6 has none (1.13 ignores this).
os.environ.setdefault("USE_LIBUV", "0")
dist.init_process_group("gloo")  # env://: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
rank = dist.get_rank()
for numel in (1, 1024, 262144, 16777216):
    # Best of 5 blocks: the machine is shared, bursts of other work are noise.
    iters = 4 if numel >= 16777216 else 40 if numel >= 262144 else 400
    t = torch.ones(numel, dtype=torch.float32)
    for _ in range(3):
        dist.all_reduce(t)
    s = 1e9
    for block in range(5):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(iters):
            dist.all_reduce(t)
        s = min(s, (time.perf_counter() - t0) / iters)
    if rank == 0:
        print(numel * 4, "%.9f" % s, flush=True)
dist.barrier()
dist.destroy_process_group()
