/*
 * spandsp's side of benches/spandsp_tx_speed.sh: time one of spandsp's fax modem
 * transmitters making SECONDS of PRBS data (the 2^23 - 1 sequence, -13 dBm0), REPEAT times
 * (a fresh transmitter each pass, blocks of 160 samples until the transmitter ends), and
 * print `samples=N seconds=CPU` as examples/modem_tx_time.rs does for softfax.
 *
 *   spandsp_tx_time MODEM RATE SECONDS REPEAT [OUT.raw]      MODEM: v21 v27ter v29 v17
 *
 * With OUT.raw the first pass's signal is also written there (s16le), for the script to
 * decode before it takes a ratio (run so with REPEAT 1: the writes are inside the timing).
 *
 * Build: cc -O2 spandsp_tx_time.c -lspandsp -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spandsp.h>

typedef struct {
    uint32_t reg;
    uint64_t left;
} source_t;

/* The 2^23 - 1 PRBS of V.52, a bit at a time, then the end of the data. */
static int get_bit(void *user)
{
    source_t *s = user;
    if (s->left == 0)
        return SIG_STATUS_END_OF_DATA;
    s->left--;
    int bit = (int) (((s->reg >> 22) ^ (s->reg >> 17)) & 1u);
    s->reg = ((s->reg << 1) | (uint32_t) bit) & 0x7FFFFFu;
    return bit;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

/* Keep a block of the signal when asked to (OUT.raw). */
static void keep(FILE *out, const int16_t *amp, int n)
{
    if (out && n > 0 && fwrite(amp, sizeof amp[0], (size_t) n, out) != (size_t) n) {
        fprintf(stderr, "spandsp_tx_time: write error\n");
        exit(1);
    }
}

/* One transmission; returns the samples made (and writes them to `out` unless NULL). */
static uint64_t transmit(const char *modem, int rate, uint64_t bits, FILE *out)
{
    source_t src = { 0x7FFFFFu, bits };
    int16_t amp[160];
    uint64_t total = 0;
    int n;
    if (strcmp(modem, "v21") == 0) {
        fsk_tx_state_t *s = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], get_bit, &src);
        fsk_tx_power(s, -13.0f);
        while ((n = fsk_tx(s, amp, 160)) == 160) {
            keep(out, amp, n);
            total += 160;
        }
        fsk_tx_free(s);
    } else if (strcmp(modem, "v27ter") == 0) {
        v27ter_tx_state_t *s = v27ter_tx_init(NULL, rate, 0, get_bit, &src);
        v27ter_tx_power(s, -13.0f);
        while ((n = v27ter_tx(s, amp, 160)) == 160) {
            keep(out, amp, n);
            total += 160;
        }
        v27ter_tx_free(s);
    } else if (strcmp(modem, "v29") == 0) {
        v29_tx_state_t *s = v29_tx_init(NULL, rate, 0, get_bit, &src);
        v29_tx_power(s, -13.0f);
        while ((n = v29_tx(s, amp, 160)) == 160) {
            keep(out, amp, n);
            total += 160;
        }
        v29_tx_free(s);
    } else if (strcmp(modem, "v17") == 0) {
        v17_tx_state_t *s = v17_tx_init(NULL, rate, 0, get_bit, &src);
        v17_tx_power(s, -13.0f);
        while ((n = v17_tx(s, amp, 160)) == 160) {
            keep(out, amp, n);
            total += 160;
        }
        v17_tx_free(s);
    } else {
        fprintf(stderr, "spandsp_tx_time: unknown modem %s\n", modem);
        exit(2);
    }
    keep(out, amp, n);
    return total + (uint64_t) (n > 0 ? n : 0);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: spandsp_tx_time MODEM RATE SECONDS REPEAT [OUT.raw]\n");
        return 2;
    }
    int rate = atoi(argv[2]);
    uint64_t bits = (uint64_t) strtoull(argv[3], NULL, 10) * (uint64_t) rate;
    int repeat = atoi(argv[4]);
    if (rate <= 0 || bits == 0 || repeat <= 0) {
        fprintf(stderr, "spandsp_tx_time: bad arguments\n");
        return 2;
    }
    FILE *out = NULL;
    if (argc == 6 && !(out = fopen(argv[5], "wb"))) {
        perror(argv[5]);
        return 1;
    }
    uint64_t samples = 0;
    double t0 = cpu_seconds();
    for (int i = 0; i < repeat; i++)
        samples += transmit(argv[1], rate, bits, i == 0 ? out : NULL);
    printf("samples=%" PRIu64 " seconds=%.4f\n", samples, cpu_seconds() - t0);
    if (out && fclose(out) != 0) {
        perror(argv[5]);
        return 1;
    }
    return 0;
}
