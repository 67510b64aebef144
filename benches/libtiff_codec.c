/*
 * Codec-only timing of libtiff, the peer of examples/t4_codec_time.rs, all in memory as
 * softfax's side is: the TIFF is read into memory once, then libtiff decodes every page
 * (TIFFSetDirectory + TIFFReadEncodedStrip, one strip per page) from a memory stream, and
 * encodes the decoded pages again with the file's coding (TIFFWriteEncodedStrip) into a
 * growing memory buffer — no file I/O in the timed loops. Prints `decode <seconds> <pages>`
 * and `encode <seconds> <pages>`, best of RUNS, in CPU seconds of this process (as
 * examples/t4_codec_time.rs measures). Built by benches/libtiff_compare.sh.
 * softfax's own bench code, written against libtiff's documented API.
 *
 * usage: libtiff_codec FILE.tif [RUNS]
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <tiffio.h>

typedef struct {
    uint8_t *data;
    size_t size, cap, pos;
} mem_t;

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    mem_t *m = (mem_t *) h;
    size_t left = m->pos < m->size ? m->size - m->pos : 0;
    size_t k = (size_t) n < left ? (size_t) n : left;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (tmsize_t) k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    mem_t *m = (mem_t *) h;
    size_t end = m->pos + (size_t) n;
    if (end > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 20;
        while (cap < end)
            cap *= 2;
        uint8_t *d = realloc(m->data, cap);
        if (d == NULL)
            return -1;
        m->data = d;
        m->cap = cap;
    }
    if (m->pos > m->size)
        memset(m->data + m->size, 0, m->pos - m->size);
    memcpy(m->data + m->pos, buf, (size_t) n);
    m->pos = end;
    if (end > m->size)
        m->size = end;
    return n;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    mem_t *m = (mem_t *) h;
    size_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    m->pos = base + (size_t) off;
    return (toff_t) m->pos;
}

static int mem_close(thandle_t h) { (void) h; return 0; }
static toff_t mem_size(thandle_t h) { return (toff_t) ((mem_t *) h)->size; }
static int no_map(thandle_t h, void **base, toff_t *size) { (void) h; (void) base; (void) size; return 0; }
static void no_unmap(thandle_t h, void *base, toff_t size) { (void) h; (void) base; (void) size; }

static TIFF *mem_open(mem_t *m, const char *mode)
{
    m->pos = 0;
    return TIFFClientOpen("memory", mode, (thandle_t) m, mem_read, mem_write, mem_seek,
                          mem_close, mem_size, no_map, no_unmap);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    uint32_t w, h, g3;
    uint16_t comp;
    tmsize_t size;
    uint8_t *buf;
} page_t;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: libtiff_codec FILE.tif [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    TIFFSetWarningHandler(NULL);
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    mem_t in = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        in.pos = in.size;
        if (mem_write(&in, chunk, (tmsize_t) n) < 0)
            return 1;
    }
    fclose(f);

    TIFF *tif = mem_open(&in, "rm");
    if (tif == NULL)
        return 1;
    int pages = TIFFNumberOfDirectories(tif);
    page_t *p = calloc((size_t) pages, sizeof(page_t));
    for (int i = 0; i < pages; i++) {
        TIFFSetDirectory(tif, (tdir_t) i);
        TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p[i].w);
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p[i].h);
        TIFFGetField(tif, TIFFTAG_COMPRESSION, &p[i].comp);
        if (!TIFFGetField(tif, TIFFTAG_GROUP3OPTIONS, &p[i].g3))
            p[i].g3 = 0;
        if (TIFFNumberOfStrips(tif) != 1) {
            fprintf(stderr, "page %d: one strip per page expected\n", i + 1);
            return 1;
        }
        p[i].size = TIFFStripSize(tif);
        p[i].buf = malloc((size_t) p[i].size);
    }

    double best_dec = 1e99;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (int i = 0; i < pages; i++) {
            TIFFSetDirectory(tif, (tdir_t) i);
            if (TIFFReadEncodedStrip(tif, 0, p[i].buf, -1) < 0) {
                fprintf(stderr, "libtiff failed to decode page %d\n", i + 1);
                return 1;
            }
        }
        double t = now() - t0;
        if (t < best_dec)
            best_dec = t;
    }
    TIFFClose(tif);

    mem_t out = {0};
    double best_enc = 1e99;
    for (int r = 0; r < runs; r++) {
        out.size = 0;
        double t0 = now();
        TIFF *o = mem_open(&out, "w");
        if (o == NULL)
            return 1;
        for (int i = 0; i < pages; i++) {
            TIFFSetField(o, TIFFTAG_IMAGEWIDTH, p[i].w);
            TIFFSetField(o, TIFFTAG_IMAGELENGTH, p[i].h);
            TIFFSetField(o, TIFFTAG_BITSPERSAMPLE, 1);
            TIFFSetField(o, TIFFTAG_COMPRESSION, p[i].comp);
            TIFFSetField(o, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
            TIFFSetField(o, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
            TIFFSetField(o, TIFFTAG_SAMPLESPERPIXEL, 1);
            TIFFSetField(o, TIFFTAG_ROWSPERSTRIP, p[i].h);
            if (p[i].comp == COMPRESSION_CCITTFAX3)
                TIFFSetField(o, TIFFTAG_GROUP3OPTIONS, p[i].g3);
            if (TIFFWriteEncodedStrip(o, 0, p[i].buf, p[i].size) < 0) {
                fprintf(stderr, "libtiff failed to encode page %d\n", i + 1);
                return 1;
            }
            TIFFWriteDirectory(o);
        }
        TIFFClose(o);
        double t = now() - t0;
        if (t < best_enc)
            best_enc = t;
    }
    printf("decode %.6f %d\n", best_dec, pages);
    printf("encode %.6f %d\n", best_enc, pages);
    return 0;
}
