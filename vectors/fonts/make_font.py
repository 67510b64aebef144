#!/usr/bin/env python3
"""Convert a BDF bitmap font (X11 misc-fixed, ISO10646-1) into softfax's compact glyph table.

Usage: pcf2bdf -o 9x15.bdf /usr/share/fonts/X11/misc/9x15.pcf.gz   (Debian xfonts-base, pcf2bdf)
       python3 vectors/fonts/make_font.py 9x15.bdf vectors/fonts/misc-fixed-9x15.sfxf

Output format (all little-endian), read by src/documents/font.rs:
  b"SFXF", u8 cell width, u8 cell height, u8 ascent, u8 bytes per row, u32 glyph count,
  then per glyph, sorted by code point: u32 code point, height * bytes_per_row bitmap bytes
  (each glyph drawn into the full cell, MSB = leftmost pel, 1 = ink).
Only the Unicode blocks in RANGES are kept (Latin, Greek, Cyrillic, punctuation, symbols,
box drawing): what plain-text mail to a fax machine realistically contains.
"""
import struct
import sys

RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x02FF), (0x0370, 0x052F), (0x1E00, 0x1FFF),
    (0x2000, 0x2BFF), (0xFB00, 0xFB06), (0xFFFD, 0xFFFD),
]


def keep(cp):
    return any(a <= cp <= b for a, b in RANGES)


def main(src, dst):
    lines = open(src, encoding="latin-1").read().split("\n")
    fbb = None
    ascent = None
    glyphs = {}
    i = 0
    while i < len(lines):
        ln = lines[i].split()
        if not ln:
            i += 1
            continue
        if ln[0] == "FONTBOUNDINGBOX":
            fbb = tuple(map(int, ln[1:5]))
        elif ln[0] == "FONT_ASCENT":
            ascent = int(ln[1])
        elif ln[0] == "STARTCHAR":
            enc = None
            bbx = None
            dwidth = None
            i += 1
            while not lines[i].startswith("BITMAP"):
                t = lines[i].split()
                if t[0] == "ENCODING":
                    enc = int(t[1])
                elif t[0] == "BBX":
                    bbx = tuple(map(int, t[1:5]))
                elif t[0] == "DWIDTH":
                    dwidth = int(t[1])
                i += 1
            i += 1
            rows = []
            while lines[i].strip() != "ENDCHAR":
                rows.append(int(lines[i].strip(), 16) if lines[i].strip() else 0)
                i += 1
            if enc is not None and enc >= 0 and keep(enc):
                glyphs[enc] = (bbx, rows, dwidth)
        i += 1
    cw, ch = fbb[0], fbb[1]
    bpr = (cw + 7) // 8
    out = bytearray(b"SFXF")
    out += struct.pack("<BBBBI", cw, ch, ascent, bpr, len(glyphs))
    for cp in sorted(glyphs):
        (w, h, xo, yo), rows, dwidth = glyphs[cp]
        assert dwidth == cw, f"U+{cp:04X}: not monospace ({dwidth})"
        cell = [0] * ch
        rowbytes = (w + 7) // 8
        top = ascent - (yo + h)  # cell row of the glyph's first bitmap row
        for r, bits in enumerate(rows):
            y = top + r
            if not 0 <= y < ch:
                continue
            for x in range(w):
                if bits & (1 << (rowbytes * 8 - 1 - x)):
                    cx = x + xo
                    if 0 <= cx < cw:
                        cell[y] |= 1 << (bpr * 8 - 1 - cx)
        out += struct.pack("<I", cp)
        for v in cell:
            out += v.to_bytes(bpr, "big")
    open(dst, "wb").write(out)
    print(f"{dst}: {len(glyphs)} glyphs, {cw}x{ch}, ascent {ascent}, {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
