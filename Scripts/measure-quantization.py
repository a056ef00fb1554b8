#!/usr/bin/env python3
"""Fake-quantizes an attnchat model's matrices to measure what a bit width costs in quality.

Writes an F32 attnchat file whose projection matrices and token embedding have been rounded to
`--bits` bits per weight — one scale per block of 32 consecutive inputs, as attnchat's Q8 files
hold them — and everything else copied. `attnchat eval` on the result gives the bits/byte that a
real kernel at that width would reach (the arithmetic is the same up to summation order).

  Scripts/measure-quantization.py --bits 4 Model/default.safetensors /tmp/q4.safetensors
  .build/release/attnchat eval --model /tmp/q4.safetensors --data data/chitchat/dataset.json

8 bits: symmetric, scale = max|x| / 127, q in [-127, 127] (attnchat's q8_0-block32).
4 bits: llama.cpp's Q4_0 rule, scale = (the value of largest magnitude) / -8, q in [-8, 7].
"""
import argparse
import json
import struct

import numpy as np

BLOCK = 32


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = {"F32": np.float32, "F16": np.float16}[info["dtype"]]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).astype(np.float32).reshape(info["shape"])
    return meta, tensors


def write(path, meta, tensors):
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def fake_quantize(rows, bits):
    """rows: (R, K) with K a multiple of 32; blocks run along K."""
    blocks = rows.reshape(rows.shape[0], -1, BLOCK).astype(np.float64)
    if bits == 8:
        scale = np.abs(blocks).max(axis=2, keepdims=True) / 127
        safe = np.where(scale == 0, 1, scale)
        q = np.clip(np.round(blocks / safe), -127, 127)
    else:
        index = np.abs(blocks).argmax(axis=2)[..., None]
        scale = np.take_along_axis(blocks, index, axis=2) / -8
        safe = np.where(scale == 0, 1, scale)
        q = np.clip(np.round(blocks / safe), -8, 7)
    return (q * scale).astype(np.float32).reshape(rows.shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bits", type=int, choices=[4, 8], required=True)
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()
    meta, tensors = read(args.input)
    for name, value in tensors.items():
        table = name in ("wte.weight", "lm_head.weight")
        projection = name.endswith(".weight") and (".attn." in name or ".mlp." in name)
        if not (table or projection):
            continue
        rows = value if table else value.T  # a projection is (in, out): its blocks run along `in`
        if rows.shape[1] % BLOCK:
            continue
        done = fake_quantize(rows, args.bits)
        tensors[name] = done if table else done.T
    write(args.output, meta, tensors)


if __name__ == "__main__":
    main()
