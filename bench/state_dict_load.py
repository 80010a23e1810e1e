# Python's side of bench/state_dict_load.tcl (Debian's python3-torch).
#   state_dict_load.py make DIR          24 x Linear(2048, 1024): a 201 MB state dict as
#                                        DIR/sd.pt (torch.save) and DIR/sd.safetensors
#   state_dict_load.py time DIR ROUNDS   prints "name first steady": the best of ROUNDS
#                                        loads of the file just evicted from the page
#                                        cache, and the best of ROUNDS loads with it cached
# safetensors is written by the format's spec (8-byte little-endian length, JSON header,
# raw data); Debian has no python3-safetensors, so Python's side of every comparison
# is torch.load.
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn

CODES = {torch.float32: "F32"}


def model():
    return nn.Sequential(*[nn.Linear(2048, 1024) for _ in range(24)])


def make(d):
    torch.manual_seed(0)
    sd = model().state_dict()
    torch.save(sd, f"{d}/sd.pt")
    items = sorted(sd.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, off, blobs = {}, 0, []
    for k, t in items:
        b = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[k] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(f"{d}/sd.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)
    os.sync()  # no writeback of these files going on while they are timed


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def timed(fn, path, rounds):
    first = best = float("inf")
    for _ in range(rounds):
        evict(path)
        t = time.perf_counter()
        fn(path)
        first = min(first, time.perf_counter() - t)
    for _ in range(rounds):
        t = time.perf_counter()
        fn(path)
        best = min(best, time.perf_counter() - t)
    return first, best


def run(d, rounds):
    m = model()
    for name, fn in [("torch.load", lambda p: torch.load(p)),
                     ("load_state_dict", lambda p: m.load_state_dict(torch.load(p)))]:
        first, best = timed(fn, f"{d}/sd.pt", rounds)
        print(f"{name} {first:.6f} {best:.6f}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "evict":
        evict(sys.argv[2])
    else:
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        run(sys.argv[2], int(sys.argv[3]))
