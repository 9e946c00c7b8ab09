#!/usr/bin/python3
"""Test helper: reads OUTDIR/a.json (extract --field float) and checks OUTDIR/a.npz,
OUTDIR/a.safetensors (gamma{k}_index, gamma{k}_value) and OUTDIR/d.npz, OUTDIR/d.safetensors
(--dense) against it, exactly; OUTDIR/z.npz (Zip64 records) must hold what a.npz holds, and
both archives must pass zipfile's CRC check. Mode "numpy": numpy.load and a plain reading of the safetensors
header; mode "safetensors": the safetensors package (safetensors.numpy.load_file). Exit 77 when
the module the mode needs is missing, 1 with a message on a mismatch."""
import itertools
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit(77)

out, mode = sys.argv[1], sys.argv[2]
if mode == "safetensors":
    try:
        from safetensors.numpy import load_file
    except ImportError:
        sys.exit(77)
else:

    def load_file(path):
        data = open(path, "rb").read()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8 : 8 + n])
        body = data[8 + n :]
        dtypes = {"F64": "<f8", "I32": "<i4"}
        return {
            name: np.frombuffer(body[e["data_offsets"][0] : e["data_offsets"][1]], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
            for name, e in header.items()
            if name != "__metadata__"
        }


action = json.load(open(f"{out}/a.json"))
d, K = action["dim"], action["order"]
by_order = {k: [] for k in range(K + 1)}
for v in action["vertices"]:
    by_order[v["order"]].append(v)


def fail(message):
    print(message)
    sys.exit(1)


sparse = {"npz": (np.load(f"{out}/a.npz") if mode == "numpy" else None), "safetensors": load_file(f"{out}/a.safetensors")}
dense = {"npz": (np.load(f"{out}/d.npz") if mode == "numpy" else None), "safetensors": load_file(f"{out}/d.safetensors")}
checked = 0
for fmt, t in sparse.items():
    if t is None:
        continue
    for k in range(K + 1):
        index, value = t[f"gamma{k}_index"], t[f"gamma{k}_value"]
        if index.dtype != np.int32 or value.dtype != np.float64:
            fail(f"{fmt}: gamma{k}: dtypes {index.dtype}, {value.dtype}")
        if index.shape != (len(by_order[k]), k) or value.shape != (len(by_order[k]),):
            fail(f"{fmt}: gamma{k}: shapes {index.shape}, {value.shape}")
        for row, v, e in zip(index, value, by_order[k]):
            if list(row) != e["index"] or v != e["float"]:
                fail(f"{fmt}: gamma{k}: {list(row)} = {v!r}, JSON has {e['index']} = {e['float']!r}")
            checked += 1
for fmt, t in dense.items():
    if t is None:
        continue
    for k in range(K + 1):
        g = t[f"gamma{k}"]
        if g.shape != (d,) * k or g.dtype != np.float64:
            fail(f"{fmt}: gamma{k}: shape {g.shape}, dtype {g.dtype}")
        values = {tuple(e["index"]): e["float"] for e in by_order[k]}
        for full in itertools.product(range(d), repeat=k):
            if g[full] != values.get(tuple(sorted(full)), 0.0):
                fail(f"{fmt}: gamma{k}{list(full)} = {g[full]!r}")
            checked += 1
if mode == "numpy":
    import zipfile

    for name in ("a.npz", "z.npz"):
        with zipfile.ZipFile(f"{out}/{name}") as archive:
            if archive.testzip() is not None:
                fail(f"{name}: a member fails its CRC check")
            if name == "z.npz" and min(i.extract_version for i in archive.infolist()) < 45:
                fail("z.npz: not written with Zip64 records")
    a, z = np.load(f"{out}/a.npz"), np.load(f"{out}/z.npz")
    if sorted(a.files) != sorted(z.files):
        fail(f"z.npz members {sorted(z.files)}, a.npz {sorted(a.files)}")
    for name in a.files:
        if a[name].dtype != z[name].dtype or not np.array_equal(a[name], z[name]):
            fail(f"z.npz: {name} differs from a.npz")
        checked += 1
print(checked)
