#!/usr/bin/env python3
"""Test peer: write a one-page bilevel TIFF with libtiff itself (through ctypes), in a
compression the libtiff command-line tools cannot write (2 = CCITT RLE, 32771 = CCITT RLEW
is not bilevel-fax and is not offered).

usage: libtiff_write.py IN.pbm OUT.tif COMPRESSION [FILLORDER]"""
import ctypes, ctypes.util, sys

src, dst, comp = sys.argv[1], sys.argv[2], int(sys.argv[3])
fill = int(sys.argv[4]) if len(sys.argv) > 4 else 1
data = open(src, "rb").read()
# P4 header: "P4" ws width ws height single-ws (no comments in the files we give it)
parts = data.split(maxsplit=3)
assert parts[0] == b"P4", "P4 only"
w, h = int(parts[1]), int(parts[2])
stride = (w + 7) // 8
pels = data[len(data) - stride * h:]

lib = ctypes.CDLL(ctypes.util.find_library("tiff") or "libtiff.so.6")
lib.TIFFOpen.restype = ctypes.c_void_p
lib.TIFFOpen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lib.TIFFClose.argtypes = [ctypes.c_void_p]
lib.TIFFWriteEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int64]
lib.TIFFWriteEncodedStrip.restype = ctypes.c_int64

def setf(tif, tag, value):
    f = lib.TIFFSetField
    f.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    if f(tif, tag, value) != 1:
        sys.exit(f"TIFFSetField({tag}, {value}) failed")

tif = lib.TIFFOpen(dst.encode(), b"w")
for tag, v in ((256, w), (257, h), (258, 1), (259, comp), (262, 0), (266, fill), (277, 1), (278, h)):
    setf(tif, tag, v)
buf = ctypes.create_string_buffer(pels, len(pels))
if lib.TIFFWriteEncodedStrip(tif, 0, buf, len(pels)) < 0:
    sys.exit("TIFFWriteEncodedStrip failed")
lib.TIFFClose(tif)
