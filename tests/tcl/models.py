# Python's side of tests/tcl/jit.test (Debian's python3-torch):
#   models.py make DIR   script the models, save state dicts and expected numbers
#   models.py check DIR  load what Tcl saved and compare; prints one line per check
# safetensors files here come from a small writer of this file's own that follows
# the format's spec (8-byte little-endian length, JSON header, raw data), so Tcl's
# reader and writer are checked against an implementation that is not Tcl's.
import json
import struct
import sys
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

CODES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
         torch.uint8: "U8", torch.bool: "BOOL"}
DTYPES = {v: k for k, v in CODES.items()}


def st_save(tensors, path, metadata=None):
    items = sorted(((k, t.detach().cpu().contiguous()) for k, t in tensors.items()),
                   key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k, t in items:
        b = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        header[k] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def st_load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        raw = bytearray(data[8 + n + b:8 + n + e])
        t = torch.frombuffer(raw, dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
        out[k] = t.view(DTYPES[v["dtype"]]).reshape(v["shape"])
    return out, header.get("__metadata__", {})


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


class Multi(nn.Module):
    """Several inputs of several types, a tuple result, and an exported method."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x: Tensor, y: Tensor, scale: float, n: int) -> Tuple[Tensor, Tensor, int]:
        h = self.lin(x) * scale
        return h, h + y.sum(), n * 2

    @torch.jit.export
    def describe(self, name: str, xs: List[Tensor], flag: bool) -> Tuple[str, int, bool, List[float]]:
        return name + "!", len(xs), not flag, [float(t.sum()) for t in xs]


class Heads(nn.Module):
    """A dict result."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        h = self.proj(x)
        return {"mean": h.mean(1), "max": torch.max(h, 1)[0]}

    @torch.jit.export
    def scaled(self, x: Tensor, factors: Dict[str, float]) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {}
        for k, f in factors.items():
            out[k] = x * f
        return out


def make(d):
    torch.manual_seed(0)
    m = cnn()
    with torch.no_grad():  # running statistics that are not the initial ones
        m.train()
        for _ in range(3):
            m(torch.randn(8, 1, 8, 8))
    torch.jit.script(m).save(f"{d}/cnn.pt")
    torch.save(m.state_dict(), f"{d}/cnn_sd.pt")
    st_save(m.state_dict(), f"{d}/cnn_sd.safetensors", {"source": "models.py"})
    x = torch.randn(4, 1, 8, 8)
    target = torch.tensor([0, 2, 1, 2])
    m.eval()
    with torch.no_grad():
        eval_out = m(x)
    # Three SGD steps in train mode on one batch: what Tcl must reach too.
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(m(x), target).backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        trained_out = m(x)
    st_save(m.state_dict(), f"{d}/trained.safetensors")

    mu = Multi()
    torch.jit.script(mu).save(f"{d}/multi.pt")
    a, b = torch.randn(2, 3), torch.randn(5)
    h, h2, n = mu(a, b, 0.5, 7)
    he = Heads()
    torch.jit.script(he).save(f"{d}/heads.pt")
    c = torch.randn(3, 4)
    r = he(c)
    st_save({"x": x, "target": target, "eval_out": eval_out.detach(), "trained_out": trained_out.detach(),
             "a": a, "b": b, "h": h.detach(), "h2": h2.detach(), "c": c, "mean": r["mean"].detach(),
             "max": r["max"].detach()}, f"{d}/expect.safetensors")
    print(n)


def close(name, got, want):
    ok = got.dtype == want.dtype and got.shape == want.shape and \
        (torch.equal(got, want) if not want.is_floating_point() else torch.allclose(got, want, atol=1e-5, rtol=0))
    print(f"{name} {'ok' if ok else 'differs'}")


def check(d):
    trained, _ = st_load(f"{d}/trained.safetensors")
    expect, _ = st_load(f"{d}/expect.safetensors")
    jm = torch.jit.load(f"{d}/tcl_jit.pt")
    sd = jm.state_dict()
    close("jit_state", torch.cat([sd[k].float().reshape(-1) for k in sorted(trained)]),
          torch.cat([trained[k].float().reshape(-1) for k in sorted(trained)]))
    jm.eval()
    with torch.no_grad():
        close("jit_forward", jm(expect["x"]), expect["trained_out"])
    loaded = torch.load(f"{d}/tcl_sd.pt")
    m = cnn()
    m.load_state_dict(loaded)  # strict: every name, BatchNorm buffers included
    for k in sorted(trained):
        close("pt " + k, m.state_dict()[k], trained[k])
    st, _ = st_load(f"{d}/tcl_sd.safetensors")
    print("safetensors_keys", "ok" if sorted(st) == sorted(trained) else "differs")
    for k in sorted(trained):
        close("st " + k, st[k], trained[k])
    # The header of a file Tcl wrote is byte for byte what the spec's writer makes.
    tensors, meta = st_load(f"{d}/tcl_mixed.safetensors")
    st_save(tensors, f"{d}/py_mixed.safetensors", meta)
    with open(f"{d}/tcl_mixed.safetensors", "rb") as f1, open(f"{d}/py_mixed.safetensors", "rb") as f2:
        print("bytes", "ok" if f1.read() == f2.read() else "differs")


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
