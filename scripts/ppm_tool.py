#!/usr/bin/env python3
"""Small PPM/PNG helper for the docs picture scripts (standard library only).

  ppm_tool.py count FILE.ppm            -> "<w> <h> <red> <orange> <blue>"
      pixels of the three fill colours (red error, orange warning, blue notice)
  ppm_tool.py pngcount FILE.png        -> the same for an 8-bit RGB/RGBA PNG
  ppm_tool.py stack OUT.png A.ppm [B.ppm ...]
      crop each image to its non-white content (plus a margin), stack them
      top to bottom with a grey rule between, write a PNG.
  ppm_tool.py stamp FILE.png TEXT
      put TEXT into the PNG as its "taizhang-source" tEXt chunk (after IHDR,
      replacing an earlier one): what the picture was rendered from.
"""
import struct
import sys
import zlib

FILLS = {
    "red": (0xFF, 0xC7, 0xCE),
    "orange": (0xFF, 0xD9, 0x66),
    "blue": (0xBD, 0xD7, 0xEE),
}


def read_ppm(path):
    data = open(path, "rb").read()
    fields = []
    i = 0
    while len(fields) < 4:
        while data[i:i + 1].isspace():
            i += 1
        if data[i:i + 1] == b"#":
            while data[i:i + 1] not in (b"\n", b""):
                i += 1
            continue
        j = i
        while not data[j:j + 1].isspace():
            j += 1
        fields.append(data[i:j])
        i = j
    i += 1
    assert fields[0] == b"P6", "binary PPM expected"
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[i:i + w * h * 3]


def count(path):
    w, h, px = read_png(path) if path.endswith(".png") else read_ppm(path)
    out = [w, h]
    for rgb in FILLS.values():
        out.append(count_rgb(px, rgb))
    print(" ".join(str(x) for x in out))


def count_rgb(px, rgb):
    r, g, b = rgb
    reds = px[0::3]
    n = 0
    start = reds.find(r)
    while start != -1:
        k = start * 3
        if px[k + 1] == g and px[k + 2] == b:
            n += 1
        start = reds.find(r, start + 1)
    return n


def read_png(path):
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG to (w, h, RGB bytes)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    i, idat, w = 8, b"", None
    while i < len(data):
        n, tag = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if tag == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif tag == b"IDAT":
            idat += body
        i += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    out = bytearray()
    pos = 0
    for _ in range(h):
        ft = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p_ = a + b - c
                pa, pb, pc = abs(p_ - a), abs(p_ - b), abs(p_ - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        if bpp == 3:
            out += line
        else:
            for x in range(w):
                out += line[x * 4:x * 4 + 3]
        prev = line
    return w, h, bytes(out)


def content_box(w, h, px, margin=16):
    def nonwhite_row(y):
        row = px[y * w * 3:(y + 1) * w * 3]
        return row.strip(b"\xff") != b""
    rows = [y for y in range(h) if nonwhite_row(y)]
    if not rows:
        return 0, 0, w, h
    top, bottom = rows[0], rows[-1]
    left, right = w, 0
    for y in range(top, bottom + 1):
        row = px[y * w * 3:(y + 1) * w * 3]
        s = len(row) - len(row.lstrip(b"\xff"))
        e = len(row.rstrip(b"\xff"))
        if e > s:
            left = min(left, s // 3)
            right = max(right, (e + 2) // 3)
    return (max(0, left - margin), max(0, top - margin),
            min(w, right + margin), min(h, bottom + 1 + margin))


def stack(out, paths):
    parts = []
    for p in paths:
        w, h, px = read_ppm(p)
        x0, y0, x1, y1 = content_box(w, h, px)
        rows = [px[y * w * 3 + x0 * 3:y * w * 3 + x1 * 3] for y in range(y0, y1)]
        parts.append((x1 - x0, rows))
    width = max(pw for pw, _ in parts)
    lines = []
    for k, (pw, rows) in enumerate(parts):
        if k:
            lines.extend([b"\xff" * (width * 3)] * 6)
            lines.extend([b"\x99" * (width * 3)] * 2)
            lines.extend([b"\xff" * (width * 3)] * 6)
        pad = b"\xff" * ((width - pw) * 3)
        lines.extend(r + pad for r in rows)
    raw = b"".join(b"\x00" + l for l in lines)

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(lines), 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    open(out, "wb").write(png)


def png_chunk(tag, body):
    return (struct.pack(">I", len(body)) + tag + body
            + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))


def stamp(path, text):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    out, i = [data[:8]], 8
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        tag = data[i + 4:i + 8]
        body = data[i + 8:i + 8 + n]
        if not (tag == b"tEXt" and body.startswith(b"taizhang-source\0")):
            out.append(data[i:i + 12 + n])
        if tag == b"IHDR":
            out.append(png_chunk(b"tEXt", b"taizhang-source\0" + text.encode("latin-1")))
        i += 12 + n
    open(path, "wb").write(b"".join(out))


if __name__ == "__main__":
    if sys.argv[1] in ("count", "pngcount"):
        count(sys.argv[2])
    elif sys.argv[1] == "stack":
        stack(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "stamp":
        stamp(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
