"""Writes the archive fuzzer's seed corpus (fuzz/corpus/archive/): small handmade dagrad archives
in the format of models/io/archive.cpp (magic, version, entry count, entries, CRC-32 of all before).

Run from the repository root: python3 fuzz/make_archive_seeds.py
"""
import os
import struct
import zlib

F32, I32, STRINGS, TEXT, INT, DOUBLE = 1, 2, 3, 4, 5, 6


def entry(name, kind, payload, shape=None):
    out = struct.pack("<I", len(name)) + name.encode() + bytes([kind])
    if shape is not None:
        out += struct.pack("<I", len(shape)) + b"".join(struct.pack("<q", d) for d in shape)
    return out + struct.pack("<Q", len(payload)) + payload


def tensor(name, shape, values, kind=F32):
    fmt = "<%d%s" % (len(values), "f" if kind == F32 else "i")
    return entry(name, kind, struct.pack(fmt, *values), shape)


def strings(name, items):
    payload = struct.pack("<Q", len(items))
    for s in items:
        b = s.encode()
        payload += struct.pack("<Q", len(b)) + b
    return entry(name, STRINGS, payload)


def archive(entries, version=1):
    body = b"DAGRADAR" + struct.pack("<II", version, len(entries)) + b"".join(entries)
    return body + struct.pack("<I", zlib.crc32(body))


SEEDS = {
    "empty": archive([]),
    "tensors": archive([tensor("w", [2, 2], [1, 2, 3, 4]), tensor("ids", [3], [7, 8, 9], I32),
                        tensor("scalar", [], [0.5]), tensor("none", [0, 4], [])]),
    "strings": archive([strings("vocab", ["a", "", "h\u00e9llo"]), strings("nothing", [])]),
    "scalars": archive([entry("config", TEXT, b"name: x\n"), entry("step", INT, struct.pack("<q", 42)),
                        entry("lr", DOUBLE, struct.pack("<d", 0.1))]),
    "model": archive([entry("format", TEXT, b"dagrad model"),
                      entry("model/config", TEXT, b"name: m\ninputs: {x: float}\nlayers:\n  y: {type: Dense, input: x, units: 2}\n"),
                      tensor("param/y/kernel", [1, 2], [0.5, -0.5]), tensor("param/y/bias", [2], [0, 0]),
                      strings("preprocessing/u/vocabulary", ["[UNK]", "u1", "u2"]),
                      entry("preprocessing/t/max_tokens", INT, struct.pack("<q", -1))]),
}

if __name__ == "__main__":
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "archive")
    os.makedirs(folder, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(folder, name + ".dagrad"), "wb") as f:
            f.write(data)
