#!/usr/bin/python3
"""Test helper (NumPy only): writes OUTDIR/t.npz (savez), OUTDIR/tc.npz (savez_compressed, Fortran
order, big-endian) and OUTDIR/t.safetensors with random tensors of every supported dtype, and
OUTDIR/expected.json with each value as the exact fraction Python computes (as_integer_ratio).
Exit 77 without NumPy."""
import json
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit(77)

out = sys.argv[1]
rng = np.random.default_rng(7)
base = rng.standard_normal((3, 4)) * np.array([1e-3, 1.0, 10.0, 1e4])
arrays = {"f8": base.astype("<f8"), "f4": base.astype("<f4"), "f2": base[0].astype("<f2"), "s": np.float64(-0.1)}
# bfloat16: float32 values with the low 16 bits cleared are exactly representable.
bf = (base.astype("<f4").view("<u4") & np.uint32(0xFFFF0000)).view("<f4")
expected = {}
for name, a in list(arrays.items()) + [("bf", bf)]:
    a = np.asarray(a)
    expected[name] = {"shape": list(a.shape),
                      "values": ["%d/%d" % float(v).as_integer_ratio() for v in a.astype(np.float64).ravel(order="C")]}
np.savez(os.path.join(out, "t.npz"), **arrays)
np.savez_compressed(os.path.join(out, "tc.npz"), f8=np.asfortranarray(arrays["f8"].astype(">f8")),
                    f4=np.asfortranarray(arrays["f4"]), f2=arrays["f2"], s=arrays["s"])
header, data = {}, b""
for name, code, raw, shape in [("f8", "F64", arrays["f8"].tobytes(), (3, 4)), ("f4", "F32", arrays["f4"].tobytes(), (3, 4)),
                               ("f2", "F16", arrays["f2"].tobytes(), (4,)), ("s", "F64", arrays["s"].tobytes(), ()),
                               ("bf", "BF16", (bf.view("<u4") >> 16).astype("<u2").tobytes(), (3, 4))]:
    header[name] = {"dtype": code, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
header["__metadata__"] = {"format": "np"}
text = json.dumps(header).encode()
with open(os.path.join(out, "t.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
json.dump(expected, open(os.path.join(out, "expected.json"), "w"))
