#!/usr/bin/env python3
"""Codec-only timing of libtiff (libtiff.so.6 through ctypes), the peer of
examples/t4_codec_time.rs: decode every page of FILE.tif with TIFFReadEncodedStrip, and
encode the decoded pages again with the file's coding (TIFFWriteEncodedStrip into a file in
/dev/shm). Prints `decode <seconds> <pages>` and `encode <seconds> <pages>`, best of RUNS."""
import ctypes, ctypes.util, os, sys, time

lib = ctypes.CDLL(ctypes.util.find_library("tiff") or "libtiff.so.6")
lib.TIFFOpen.restype = ctypes.c_void_p
lib.TIFFOpen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lib.TIFFClose.argtypes = [ctypes.c_void_p]
lib.TIFFReadDirectory.argtypes = [ctypes.c_void_p]
lib.TIFFSetDirectory.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.TIFFStripSize.argtypes = [ctypes.c_void_p]
lib.TIFFStripSize.restype = ctypes.c_int64
lib.TIFFReadEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int64]
lib.TIFFReadEncodedStrip.restype = ctypes.c_int64
lib.TIFFWriteEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int64]
lib.TIFFWriteEncodedStrip.restype = ctypes.c_int64
lib.TIFFWriteDirectory.argtypes = [ctypes.c_void_p]
lib.TIFFSetWarningHandler.argtypes = [ctypes.c_void_p]
lib.TIFFSetWarningHandler(None)
lib.TIFFGetField.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]

def get32(tif, tag):
    v = ctypes.c_uint32(0); lib.TIFFGetField(tif, tag, ctypes.byref(v)); return v.value

def get16(tif, tag):
    v = ctypes.c_uint16(0); lib.TIFFGetField(tif, tag, ctypes.byref(v)); return v.value

def setf(tif, tag, value):
    f = lib.TIFFSetField
    f.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    f(tif, tag, value)

path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
tif = lib.TIFFOpen(path.encode(), b"r")
pages = []
while True:
    w, h, comp = get32(tif, 256), get32(tif, 257), get16(tif, 259)
    g3 = get32(tif, 292)
    buf = ctypes.create_string_buffer(lib.TIFFStripSize(tif))
    pages.append((w, h, comp, g3, buf))
    if not lib.TIFFReadDirectory(tif):
        break

best_dec = float("inf")
for _ in range(runs):
    t0 = time.perf_counter()
    lib.TIFFSetDirectory(tif, 0)
    for i, (w, h, comp, g3, buf) in enumerate(pages):
        if i:
            lib.TIFFReadDirectory(tif)
        if lib.TIFFReadEncodedStrip(tif, 0, buf, -1) < 0:
            sys.exit(f"libtiff failed to decode page {i + 1}")
    best_dec = min(best_dec, time.perf_counter() - t0)
lib.TIFFClose(tif)

out = f"/dev/shm/libtiff_codec_{os.getpid()}.tif"
best_enc = float("inf")
for _ in range(runs):
    t0 = time.perf_counter()
    o = lib.TIFFOpen(out.encode(), b"w")
    for (w, h, comp, g3, buf) in pages:
        for tag, v in ((256, w), (257, h), (258, 1), (259, comp), (262, 0), (266, 1), (277, 1), (278, h)):
            setf(o, tag, v)
        if comp == 3:
            setf(o, 292, g3)
        lib.TIFFWriteEncodedStrip(o, 0, buf, len(buf.raw))
        lib.TIFFWriteDirectory(o)
    lib.TIFFClose(o)
    best_enc = min(best_enc, time.perf_counter() - t0)
os.unlink(out)
print(f"decode {best_dec:.6f} {len(pages)}")
print(f"encode {best_enc:.6f} {len(pages)}")
