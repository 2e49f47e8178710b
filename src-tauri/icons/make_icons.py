#!/usr/bin/env python3
"""Draws the app icon (a teal rounded square with a white map pin and a medical cross) as RGBA PNGs
in the sizes Tauri's bundlers want. No dependencies: run `python3 make_icons.py` to regenerate."""
import math, struct, zlib

def png(path, size, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

def draw(size):
    s = 4  # supersampling
    out = bytearray(size * size * 4)
    for y in range(size):
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(s):
                for sx in range(s):
                    u = (x + (sx + 0.5) / s) / size
                    v = (y + (sy + 0.5) / s) / size
                    c = shade(u, v)
                    if c:
                        for i in range(4):
                            acc[i] += c[i]
            n = s * s
            a = acc[3] / n
            if a > 0:
                out[(y * size + x) * 4:(y * size + x) * 4 + 4] = bytes([int(acc[0] / acc[3] * 255) if acc[3] else 0,
                                                                       int(acc[1] / acc[3] * 255) if acc[3] else 0,
                                                                       int(acc[2] / acc[3] * 255) if acc[3] else 0,
                                                                       int(a * 255)])
    return out

def shade(u, v):
    # rounded square background
    r = 0.2
    dx = max(abs(u - 0.5) - (0.5 - r) + 0.02, 0)
    dy = max(abs(v - 0.5) - (0.5 - r) + 0.02, 0)
    if math.hypot(dx, dy) > r:
        return None
    bg = (0.05, 0.48, 0.45)
    # pin: circle head + point
    cx, cy, pr = 0.5, 0.42, 0.24
    d = math.hypot(u - cx, v - cy)
    in_head = d < pr
    in_tip = v >= cy and v < 0.86 and abs(u - cx) < (0.86 - v) / (0.86 - cy) * pr * 0.92
    if in_head or in_tip:
        # red cross inside the head
        if (abs(u - cx) < 0.045 and abs(v - cy) < 0.14) or (abs(v - cy) < 0.045 and abs(u - cx) < 0.14):
            return (0.85, 0.2, 0.2, 1.0)
        return (1.0, 1.0, 1.0, 1.0)
    return bg + (1.0,)

for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    png(name, size, draw(size))
    print("wrote", name)
