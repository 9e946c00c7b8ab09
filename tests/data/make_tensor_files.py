#!/usr/bin/python3
"""Writes the small tensor files of tests/data (test inputs and fuzz seeds). Run from this folder
with NumPy installed; the files are checked in, so the tests do not need NumPy."""
import io, json, struct, zipfile
import numpy as np

W = np.array([[0.5, 0.1], [0.2, 0.1]], dtype=np.float32)
alpha = np.array([0.25, 0.1], dtype=np.float16)

np.savez("weights.npz", W=W, alpha=alpha)
np.savez_compressed("weights_fortran.npz", W=np.asfortranarray(W.astype(">f8")), alpha=alpha)


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, raw, shape) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


with open("weights.safetensors", "wb") as f:
    f.write(safetensors({"W": ("F32", W.tobytes(), W.shape), "alpha": ("F16", alpha.tobytes(), alpha.shape)},
                        {"format": "pt"}))

# A deflated member whose sizes in both headers are patched to 1 GiB + 1: a zip bomb's claim.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    b = io.BytesIO()
    np.save(b, np.zeros(4096))
    z.writestr("W.npy", b.getvalue())
raw = bytearray(buf.getvalue())
claim = struct.pack("<I", (1 << 30) + 1)
local = raw.find(b"PK\x03\x04")
raw[local + 22:local + 26] = claim
central = raw.find(b"PK\x01\x02")
raw[central + 24:central + 28] = claim
with open("bomb.npz", "wb") as f:
    f.write(bytes(raw))

# The same member claiming a ratio deflate cannot reach (10 MB from a few dozen bytes).
raw = bytearray(buf.getvalue())
comp = struct.unpack("<I", raw[central + 20:central + 24])[0]
claim = struct.pack("<I", 1100 * comp + 2048)
raw[local + 22:local + 26] = claim
raw[central + 24:central + 28] = claim
with open("ratio_bomb.npz", "wb") as f:
    f.write(bytes(raw))

# .npy seeds for the fuzzer (float32 C order; big-endian float64 Fortran order).
np.save("samples.npy", np.arange(6, dtype="<f4").reshape(3, 2))
np.save("samples_fortran.npy", np.asfortranarray(np.arange(6.0).reshape(2, 3).astype(">f8")))
