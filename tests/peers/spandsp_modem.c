/*
 * spandsp_modem: an independent peer for softfax's fax modems, built on spandsp's own
 * modems (libspandsp 0.0.6 API). Test-only; see tests/peers/README.md.
 *
 *   spandsp_modem tx MODEM RATE [--prbs N] [--level DBM0] [--short-train] [--tep]
 *                               [--lead MS] [--tail MS]
 *   spandsp_modem rx MODEM RATE [--prbs N] [--cutoff DBM0]
 *   spandsp_modem bench MODEM RATE FILE.raw REPEAT
 *
 * MODEM is v21 (V.21 channel 2, 300 bit/s), v27ter (2400, 4800), v29 (7200, 9600) or
 * v17 (7200, 9600, 12000, 14400). Audio is signed 16-bit little-endian, 8000 samples/s,
 * mono, on stdout (tx) or stdin (rx). Data bytes are sent/received least significant
 * bit first (the T.4 / HDLC bit order on the line).
 *
 * PRBS: 2^23-1, x^23 + x^18 + 1 (the ITU-T O.150 polynomial, not inverted), Fibonacci
 * form, 23-bit register seeded to all ones; each step's output is the new bit:
 *     new = bit22(reg) ^ bit17(reg);  reg = ((reg << 1) | new) & 0x7FFFFF;  emit new
 * i.e. b[n] = b[n-23] ^ b[n-18] with b[-23..-1] = 1. The first bits are 18 zeros, then
 * 1,0,0,0,0,1,...
 *
 * Exit status: 0 after a completed run (whatever was received: read the report line),
 * 2 for a usage error, 1 for an I/O or set-up error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spandsp.h>

#define SAMPLE_RATE 8000
#define PRBS_MASK 0x7FFFFFu

enum modem_kind { M_V21, M_V27TER, M_V29, M_V17 };

static const char *modem_names[] = { "v21", "v27ter", "v29", "v17" };

/* ---------------------------------------------------------------- utilities -- */

static void usage(void)
{
    fprintf(stderr,
        "usage: spandsp_modem tx MODEM RATE [--prbs N] [--level DBM0] [--short-train] [--tep]\n"
        "                                   [--lead MS] [--tail MS]\n"
        "       spandsp_modem rx MODEM RATE [--prbs N] [--cutoff DBM0]\n"
        "       spandsp_modem bench MODEM RATE FILE.raw REPEAT\n"
        "MODEM: v21 (300) | v27ter (2400 4800) | v29 (7200 9600) | v17 (7200 9600 12000 14400)\n");
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "spandsp_modem: %s\n", what);
    exit(1);
}

static int parse_modem(const char *s, enum modem_kind *m)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, modem_names[i]) == 0) {
            *m = (enum modem_kind) i;
            return 0;
        }
    }
    return -1;
}

static int rate_ok(enum modem_kind m, int rate)
{
    switch (m) {
    case M_V21: return rate == 300;
    case M_V27TER: return rate == 2400 || rate == 4800;
    case M_V29: return rate == 7200 || rate == 9600;
    case M_V17: return rate == 7200 || rate == 9600 || rate == 12000 || rate == 14400;
    }
    return 0;
}

static long long parse_int(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < 0)
        usage();
    return v;
}

/* Read all of a stream. */
static uint8_t *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        die("out of memory");
    for (;;) {
        if (n == cap) {
            cap *= 2;
            if (!(buf = realloc(buf, cap)))
                die("out of memory");
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                die("read error");
            break;
        }
    }
    *len = n;
    return buf;
}

/* s16le bytes -> native samples (an odd trailing byte is ignored). */
static int16_t *bytes_to_samples(const uint8_t *b, size_t nbytes, size_t *nsamples)
{
    size_t n = nbytes / 2;
    int16_t *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        s[i] = (int16_t) (uint16_t) (b[2 * i] | (b[2 * i + 1] << 8));
    *nsamples = n;
    return s;
}

static void write_samples(const int16_t *s, int n)
{
    uint8_t b[2 * 512];
    while (n > 0) {
        int k = n > 512 ? 512 : n;
        for (int i = 0; i < k; i++) {
            uint16_t v = (uint16_t) s[i];
            b[2 * i] = (uint8_t) (v & 0xFF);
            b[2 * i + 1] = (uint8_t) (v >> 8);
        }
        if (fwrite(b, 2, (size_t) k, stdout) != (size_t) k)
            die("write error");
        s += k;
        n -= k;
    }
}

static void write_silence(long n)
{
    static const int16_t zeros[512];
    while (n > 0) {
        int k = n > 512 ? 512 : (int) n;
        write_samples(zeros, k);
        n -= k;
    }
}

/* --------------------------------------------------------------------- PRBS -- */

typedef struct {
    uint32_t reg;
} prbs_t;

static void prbs_init(prbs_t *p)
{
    p->reg = PRBS_MASK;
}

static int prbs_next(prbs_t *p)
{
    int bit = (int) (((p->reg >> 22) ^ (p->reg >> 17)) & 1u);
    p->reg = ((p->reg << 1) | (uint32_t) bit) & PRBS_MASK;
    return bit;
}

/* ------------------------------------------------------------ modem wrappers -- */

typedef struct {
    enum modem_kind kind;
    void *state;
} modem_t;

static int modem_tx_block(modem_t *m, int16_t *amp, int len)
{
    switch (m->kind) {
    case M_V21: return fsk_tx((fsk_tx_state_t *) m->state, amp, len);
    case M_V27TER: return v27ter_tx((v27ter_tx_state_t *) m->state, amp, len);
    case M_V29: return v29_tx((v29_tx_state_t *) m->state, amp, len);
    case M_V17: return v17_tx((v17_tx_state_t *) m->state, amp, len);
    }
    return 0;
}

static void modem_tx_free(modem_t *m)
{
    switch (m->kind) {
    case M_V21: fsk_tx_free((fsk_tx_state_t *) m->state); break;
    case M_V27TER: v27ter_tx_free((v27ter_tx_state_t *) m->state); break;
    case M_V29: v29_tx_free((v29_tx_state_t *) m->state); break;
    case M_V17: v17_tx_free((v17_tx_state_t *) m->state); break;
    }
}

static void modem_rx_init(modem_t *m, enum modem_kind kind, int rate, put_bit_func_t put_bit,
                          qam_report_handler_t qam_report, void *user)
{
    m->kind = kind;
    switch (kind) {
    case M_V21:
        m->state = fsk_rx_init(NULL, &preset_fsk_specs[FSK_V21CH2], FSK_FRAME_MODE_SYNC, put_bit, user);
        break;
    case M_V27TER:
        m->state = v27ter_rx_init(NULL, rate, put_bit, user);
        if (m->state && qam_report)
            v27ter_rx_set_qam_report_handler((v27ter_rx_state_t *) m->state, qam_report, user);
        break;
    case M_V29:
        m->state = v29_rx_init(NULL, rate, put_bit, user);
        if (m->state && qam_report)
            v29_rx_set_qam_report_handler((v29_rx_state_t *) m->state, qam_report, user);
        break;
    case M_V17:
        m->state = v17_rx_init(NULL, rate, put_bit, user);
        if (m->state && qam_report)
            v17_rx_set_qam_report_handler((v17_rx_state_t *) m->state, qam_report, user);
        break;
    }
    if (!m->state)
        die("cannot initialise the spandsp receiver");
}

static int modem_rx_block(modem_t *m, const int16_t *amp, int len)
{
    switch (m->kind) {
    case M_V21: return fsk_rx((fsk_rx_state_t *) m->state, amp, len);
    case M_V27TER: return v27ter_rx((v27ter_rx_state_t *) m->state, amp, len);
    case M_V29: return v29_rx((v29_rx_state_t *) m->state, amp, len);
    case M_V17: return v17_rx((v17_rx_state_t *) m->state, amp, len);
    }
    return 0;
}

static void modem_rx_cutoff(modem_t *m, float dbm0)
{
    switch (m->kind) {
    case M_V21: fsk_rx_signal_cutoff((fsk_rx_state_t *) m->state, dbm0); break;
    case M_V27TER: v27ter_rx_signal_cutoff((v27ter_rx_state_t *) m->state, dbm0); break;
    case M_V29: v29_rx_signal_cutoff((v29_rx_state_t *) m->state, dbm0); break;
    case M_V17: v17_rx_signal_cutoff((v17_rx_state_t *) m->state, dbm0); break;
    }
}

static void modem_rx_free(modem_t *m)
{
    switch (m->kind) {
    case M_V21: fsk_rx_free((fsk_rx_state_t *) m->state); break;
    case M_V27TER: v27ter_rx_free((v27ter_rx_state_t *) m->state); break;
    case M_V29: v29_rx_free((v29_rx_state_t *) m->state); break;
    case M_V17: v17_rx_free((v17_rx_state_t *) m->state); break;
    }
}

/* ----------------------------------------------------------------------- tx -- */

typedef struct {
    int use_prbs;
    prbs_t prbs;
    uint64_t prbs_left;
    const uint8_t *data;
    size_t data_len;
    uint64_t bit_pos;
} tx_source_t;

static int tx_get_bit(void *user)
{
    tx_source_t *src = user;
    if (src->use_prbs) {
        if (src->prbs_left == 0)
            return SIG_STATUS_END_OF_DATA;
        src->prbs_left--;
        return prbs_next(&src->prbs);
    }
    if (src->bit_pos >= (uint64_t) src->data_len * 8)
        return SIG_STATUS_END_OF_DATA;
    int bit = (src->data[src->bit_pos >> 3] >> (src->bit_pos & 7)) & 1;
    src->bit_pos++;
    return bit;
}

static int cmd_tx(enum modem_kind kind, int rate, int argc, char **argv)
{
    tx_source_t src = {0};
    double level = -13.0;
    int short_train = 0, tep = 0;
    long lead_ms = 100, tail_ms = 250;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--prbs") == 0 && i + 1 < argc) {
            src.use_prbs = 1;
            src.prbs_left = (uint64_t) parse_int(argv[++i]);
        } else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            char *end;
            level = strtod(argv[++i], &end);
            if (*end != '\0')
                usage();
        } else if (strcmp(argv[i], "--short-train") == 0) {
            short_train = 1;
        } else if (strcmp(argv[i], "--tep") == 0) {
            tep = 1;
        } else if (strcmp(argv[i], "--lead") == 0 && i + 1 < argc) {
            lead_ms = (long) parse_int(argv[++i]);
        } else if (strcmp(argv[i], "--tail") == 0 && i + 1 < argc) {
            tail_ms = (long) parse_int(argv[++i]);
        } else {
            usage();
        }
    }
    if (short_train && kind != M_V17) {
        fprintf(stderr, "spandsp_modem: --short-train is only for v17\n");
        exit(2);
    }
    if (tep && kind == M_V21) {
        fprintf(stderr, "spandsp_modem: --tep is not for v21\n");
        exit(2);
    }
    uint8_t *input = NULL;
    if (src.use_prbs) {
        prbs_init(&src.prbs);
    } else {
        input = read_all(stdin, &src.data_len);
        src.data = input;
    }
    uint64_t nbits = src.use_prbs ? src.prbs_left : (uint64_t) src.data_len * 8;

    modem_t m = { kind, NULL };
    switch (kind) {
    case M_V21:
        m.state = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], tx_get_bit, &src);
        if (m.state)
            fsk_tx_power((fsk_tx_state_t *) m.state, (float) level);
        break;
    case M_V27TER:
        m.state = v27ter_tx_init(NULL, rate, tep, tx_get_bit, &src);
        if (m.state)
            v27ter_tx_power((v27ter_tx_state_t *) m.state, (float) level);
        break;
    case M_V29:
        m.state = v29_tx_init(NULL, rate, tep, tx_get_bit, &src);
        if (m.state)
            v29_tx_power((v29_tx_state_t *) m.state, (float) level);
        break;
    case M_V17:
        m.state = v17_tx_init(NULL, rate, tep, tx_get_bit, &src);
        if (m.state) {
            if (short_train)
                v17_tx_restart((v17_tx_state_t *) m.state, rate, tep, 1);
            v17_tx_power((v17_tx_state_t *) m.state, (float) level);
        }
        break;
    }
    if (!m.state)
        die("cannot initialise the spandsp transmitter");

    write_silence(lead_ms * SAMPLE_RATE / 1000);
    /* Generous cap: the data time plus 10 s for training and trailer. */
    uint64_t cap = nbits * SAMPLE_RATE / (uint64_t) rate + 10 * SAMPLE_RATE;
    uint64_t total = 0;
    int16_t amp[160];
    for (;;) {
        int n = modem_tx_block(&m, amp, 160);
        if (n > 0)
            write_samples(amp, n);
        total += (uint64_t) (n > 0 ? n : 0);
        if (n < 160)
            break;
        if (total > cap)
            die("transmitter did not finish");
    }
    write_silence(tail_ms * SAMPLE_RATE / 1000);
    if (fflush(stdout) != 0)
        die("write error");
    fprintf(stderr, "spandsp: tx modem=%s rate=%d bits=%llu signal_samples=%llu lead=%ld tail=%ld\n",
            modem_names[kind], rate, (unsigned long long) nbits, (unsigned long long) total,
            lead_ms * SAMPLE_RATE / 1000, tail_ms * SAMPLE_RATE / 1000);
    modem_tx_free(&m);
    free(input);
    return 0;
}

/* ----------------------------------------------------------------------- rx -- */

typedef struct {
    enum modem_kind kind;
    uint64_t sample;           /* index of the sample being processed */
    /* received data bits, one per byte (0/1) */
    uint8_t *bits;
    size_t nbits, cap;
    int trained;               /* reached data mode (QAM: TRAINING_SUCCEEDED; V.21: CARRIER_UP) */
    int training_failed;
    long long carrier_up_at, carrier_down_at, trained_at, failed_at;
    int carrier_ups, trainings;
    /* QAM error-vector statistics over data-mode symbols */
    double sig_energy, err_energy;
    uint64_t symbols;
    int count_only;            /* bench: count bits, do not store */
} rx_sink_t;

static void rx_put_bit(void *user, int bit)
{
    rx_sink_t *s = user;
    if (bit < 0) {
        switch (bit) {
        case SIG_STATUS_CARRIER_UP:
            s->carrier_ups++;
            if (s->carrier_up_at < 0)
                s->carrier_up_at = (long long) s->sample;
            if (s->kind == M_V21) {
                s->trained = 1;
                if (s->trained_at < 0)
                    s->trained_at = (long long) s->sample;
            }
            break;
        case SIG_STATUS_CARRIER_DOWN:
            s->carrier_down_at = (long long) s->sample;
            break;
        case SIG_STATUS_TRAINING_SUCCEEDED:
            s->trainings++;
            s->trained = 1;
            if (s->trained_at < 0)
                s->trained_at = (long long) s->sample;
            break;
        case SIG_STATUS_TRAINING_FAILED:
            s->training_failed = 1;
            if (s->failed_at < 0)
                s->failed_at = (long long) s->sample;
            break;
        default:
            break;
        }
        if (!s->count_only)
            fprintf(stderr, "spandsp-event: sample=%llu status=%s\n",
                    (unsigned long long) s->sample, signal_status_to_str(bit));
        return;
    }
    if (s->count_only) {
        s->nbits++;
        return;
    }
    if (s->nbits == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1 << 16;
        if (!(s->bits = realloc(s->bits, s->cap)))
            die("out of memory");
    }
    s->bits[s->nbits++] = (uint8_t) (bit & 1);
}

static void rx_qam_report(void *user, const complexf_t *constel, const complexf_t *target, int symbol)
{
    rx_sink_t *s = user;
    (void) symbol;
    if (!constel || !target || !s->trained)
        return;
    double er = constel->re - target->re, ei = constel->im - target->im;
    s->sig_energy += (double) target->re * target->re + (double) target->im * target->im;
    s->err_energy += er * er + ei * ei;
    s->symbols++;
}

typedef struct {
    int synced;
    size_t rx_offset;          /* received bits before the first PRBS bit seen */
    uint64_t prbs_offset;      /* PRBS bits never seen at the start (lost) */
    uint64_t compared, errors;
    uint64_t missing;          /* PRBS bits never seen at the end */
    uint64_t extra;            /* received bits after the PRBS ended */
} prbs_check_t;

#define SYNC_RUN 256

/* Synchronise to the PRBS in the received bits and count errors.
   Sync: the first position i whose 23 received bits predict the next SYNC_RUN received
   bits without error (and are not all zero), located in the transmitted sequence at the
   first index j with the same 23 bits. Bits before i are not counted as errors. */
static prbs_check_t prbs_check(const uint8_t *r, size_t n, uint64_t nprbs)
{
    prbs_check_t c = {0};
    if (nprbs < 23 + SYNC_RUN)
        return c;
    uint8_t *e = malloc(nprbs);
    if (!e)
        die("out of memory");
    prbs_t p;
    prbs_init(&p);
    for (uint64_t k = 0; k < nprbs; k++)
        e[k] = (uint8_t) prbs_next(&p);
    for (size_t i = 0; i + 23 + SYNC_RUN <= n; i++) {
        uint32_t w = 0;
        for (int k = 0; k < 23; k++)
            w = (w << 1) | r[i + k];
        if (w == 0)
            continue;
        int ok = 1;
        for (size_t t = i + 23; t < i + 23 + SYNC_RUN; t++) {
            if (r[t] != (r[t - 23] ^ r[t - 18])) {
                ok = 0;
                break;
            }
        }
        if (!ok)
            continue;
        /* Locate the window in the transmitted sequence. */
        uint32_t v = 0;
        uint64_t j;
        int found = 0;
        for (j = 0; j < nprbs; j++) {
            v = ((v << 1) | e[j]) & PRBS_MASK;
            if (j >= 22 && v == w) {
                found = 1;
                j -= 22;
                break;
            }
        }
        if (!found)
            continue;
        c.synced = 1;
        c.rx_offset = i;
        c.prbs_offset = j;
        uint64_t avail = n - i, want = nprbs - j;
        c.compared = avail < want ? avail : want;
        for (uint64_t t = 0; t < c.compared; t++)
            c.errors += r[i + t] != e[j + t];
        c.missing = want - c.compared;
        c.extra = avail - c.compared;
        break;
    }
    free(e);
    return c;
}

static void report_common(const rx_sink_t *s, int rate)
{
    fprintf(stderr, "modem=%s rate=%d trained=%d training=%s carrier_up_at=%lld trained_at=%lld "
            "carrier_down_at=%lld carrier_ups=%d",
            modem_names[s->kind], rate, s->trained,
            s->trained ? "ok" : (s->training_failed ? "failed" : "none"),
            s->carrier_up_at, s->trained_at, s->carrier_down_at, s->carrier_ups);
    if (s->kind != M_V21 && s->symbols > 0 && s->err_energy > 0.0)
        fprintf(stderr, " snr=%.1f", 10.0 * log10(s->sig_energy / s->err_energy));
    else if (s->kind != M_V21 && s->symbols > 0)
        fprintf(stderr, " snr=inf");
    else
        fprintf(stderr, " snr=na");
}

static int cmd_rx(enum modem_kind kind, int rate, int argc, char **argv)
{
    int use_prbs = 0, have_cutoff = 0;
    uint64_t nprbs = 0;
    double cutoff = 0.0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--prbs") == 0 && i + 1 < argc) {
            use_prbs = 1;
            nprbs = (uint64_t) parse_int(argv[++i]);
        } else if (strcmp(argv[i], "--cutoff") == 0 && i + 1 < argc) {
            char *end;
            cutoff = strtod(argv[++i], &end);
            if (*end != '\0')
                usage();
            have_cutoff = 1;
        } else {
            usage();
        }
    }
    size_t nbytes, nsamples;
    uint8_t *raw = read_all(stdin, &nbytes);
    int16_t *amp = bytes_to_samples(raw, nbytes, &nsamples);
    free(raw);

    rx_sink_t s = {0};
    s.kind = kind;
    s.carrier_up_at = s.carrier_down_at = s.trained_at = s.failed_at = -1;
    modem_t m;
    modem_rx_init(&m, kind, rate, rx_put_bit, kind == M_V21 ? NULL : rx_qam_report, &s);
    if (have_cutoff)
        modem_rx_cutoff(&m, (float) cutoff);
    /* One sample per call, so that event sample indices are exact; spandsp's receivers
       process sample by sample anyway, so the result does not depend on the block size. */
    for (size_t i = 0; i < nsamples; i++) {
        s.sample = i;
        modem_rx_block(&m, &amp[i], 1);
    }
    s.sample = nsamples;

    fprintf(stderr, "spandsp: ");
    report_common(&s, rate);
    if (use_prbs) {
        prbs_check_t c = prbs_check(s.bits, s.nbits, nprbs);
        fprintf(stderr, " received_bits=%zu sync=%d bits=%llu errors=%llu rx_offset=%zu prbs_offset=%llu "
                "missing=%llu extra=%llu\n",
                s.nbits, c.synced, (unsigned long long) c.compared,
                (unsigned long long) (c.synced ? c.errors : c.compared),
                c.rx_offset, (unsigned long long) c.prbs_offset,
                (unsigned long long) (c.synced ? c.missing : nprbs),
                (unsigned long long) c.extra);
    } else {
        /* Pack LSB first; a final partial byte is padded with zeros (bits= tells how many
           bits are real). */
        size_t nout = (s.nbits + 7) / 8;
        uint8_t *out = calloc(nout ? nout : 1, 1);
        if (!out)
            die("out of memory");
        for (size_t i = 0; i < s.nbits; i++)
            out[i >> 3] |= (uint8_t) (s.bits[i] << (i & 7));
        if (fwrite(out, 1, nout, stdout) != nout || fflush(stdout) != 0)
            die("write error");
        free(out);
        fprintf(stderr, " bits=%zu\n", s.nbits);
    }
    modem_rx_free(&m);
    free(s.bits);
    free(amp);
    return 0;
}

/* -------------------------------------------------------------------- bench -- */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static int cmd_bench(enum modem_kind kind, int rate, int argc, char **argv)
{
    if (argc != 2)
        usage();
    long long repeat = parse_int(argv[1]);
    FILE *f = fopen(argv[0], "rb");
    if (!f)
        die("cannot open the raw file");
    size_t nbytes, nsamples;
    uint8_t *raw = read_all(f, &nbytes);
    fclose(f);
    int16_t *amp = bytes_to_samples(raw, nbytes, &nsamples);
    free(raw);

    rx_sink_t s = {0};
    uint64_t bits_total = 0;
    int all_trained = 1;
    double t0 = cpu_seconds();
    for (long long r = 0; r < repeat; r++) {
        memset(&s, 0, sizeof s);
        s.kind = kind;
        s.count_only = 1;
        s.carrier_up_at = s.carrier_down_at = s.trained_at = s.failed_at = -1;
        modem_t m;
        /* No QAM report handler: measure the receiver alone. */
        modem_rx_init(&m, kind, rate, rx_put_bit, NULL, &s);
        for (size_t i = 0; i < nsamples; i += 160) {
            int n = nsamples - i < 160 ? (int) (nsamples - i) : 160;
            modem_rx_block(&m, &amp[i], n);
        }
        modem_rx_free(&m);
        bits_total += s.nbits;
        all_trained &= s.trained;
    }
    double secs = cpu_seconds() - t0;
    unsigned long long samples = (unsigned long long) nsamples * (unsigned long long) repeat;
    printf("samples=%llu seconds=%.6f msamples_per_s=%.3f channels_per_core=%.1f\n",
           samples, secs, secs > 0 ? samples / secs / 1e6 : 0.0,
           secs > 0 ? samples / secs / SAMPLE_RATE : 0.0);
    fprintf(stderr, "spandsp: bench modem=%s rate=%d repeat=%lld trained=%d bits=%llu\n",
            modem_names[kind], rate, repeat, all_trained, (unsigned long long) bits_total);
    free(amp);
    return 0;
}

/* --------------------------------------------------------------------- main -- */

int main(int argc, char **argv)
{
    if (argc < 4)
        usage();
    enum modem_kind kind;
    if (parse_modem(argv[2], &kind) != 0)
        usage();
    int rate = (int) parse_int(argv[3]);
    if (!rate_ok(kind, rate)) {
        fprintf(stderr, "spandsp_modem: %s does not run at %d bit/s\n", argv[2], rate);
        exit(2);
    }
    if (strcmp(argv[1], "tx") == 0)
        return cmd_tx(kind, rate, argc - 4, argv + 4);
    if (strcmp(argv[1], "rx") == 0)
        return cmd_rx(kind, rate, argc - 4, argv + 4);
    if (strcmp(argv[1], "bench") == 0)
        return cmd_bench(kind, rate, argc - 4, argv + 4);
    usage();
    return 2;
}
