/*
 * Speed of spandsp's fax terminals: two of them back to back (fax_tx of one into fax_rx of
 * the other, blocks of 160 samples), sending the pages of IN.tif, REPEAT times. Prints
 * `simulated_s cpu_s terminals_per_core pages result_caller result_answerer` (a terminal is
 * one end of a real-time call; CPU time of this process; pages received in the last repeat;
 * the T.30 completion codes, 0 = OK, the worst of all repeats). For benches/spandsp_call_speed.sh; softfax's own test-only
 * code, not a copy of spandsp's test programs.
 *
 * usage: spandsp_call_pair IN.tif OUT.tif [--ecm] [REPEAT]
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>
#include <spandsp.h>

#define BLOCK 160

static int done[2];
static int result[2];
static int worst[2];

static void phase_e(t30_state_t *s, void *user, int code)
{
    (void) s;
    int i = (int) (intptr_t) user;
    done[i] = 1;
    result[i] = code;
    if (code != 0)
        worst[i] = code;
}

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spandsp_call_pair IN.tif OUT.tif [--ecm] [REPEAT]\n");
        return 2;
    }
    bool ecm = argc > 3 && strcmp(argv[3], "--ecm") == 0;
    int repeat = argc > 3 + ecm ? atoi(argv[3 + ecm]) : 5;
    long samples = 0;
    int pages = 0;
    double t0 = cpu();
    for (int r = 0; r < repeat; r++) {
        fax_state_t *f[2];
        int16_t buf[2][BLOCK];
        for (int i = 0; i < 2; i++) {
            f[i] = fax_init(NULL, i == 0);
            t30_state_t *t = fax_get_t30_state(f[i]);
            t30_set_tx_ident(t, i == 0 ? "a" : "b");
            if (i == 0)
                t30_set_tx_file(t, argv[1], -1, -1);
            else
                t30_set_rx_file(t, argv[2], -1);
            t30_set_ecm_capability(t, ecm);
            t30_set_supported_compressions(t, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION
                                              | (ecm ? T30_SUPPORT_T6_COMPRESSION : 0));
            t30_set_phase_e_handler(t, phase_e, (void *) (intptr_t) i);
            fax_set_transmit_on_idle(f[i], true);
            done[i] = 0;
            result[i] = -1;
        }
        while (!(done[0] && done[1]) && samples < 3600L * 8000 * (r + 1)) {
            for (int i = 0; i < 2; i++) {
                int n = fax_tx(f[i], buf[i], BLOCK);
                memset(buf[i] + n, 0, (BLOCK - n) * sizeof(int16_t));
            }
            fax_rx(f[0], buf[1], BLOCK);
            fax_rx(f[1], buf[0], BLOCK);
            samples += BLOCK;
        }
        for (int i = 0; i < 2; i++)
            if (!done[i])
                worst[i] = -1; /* no phase E */
        t30_stats_t st;
        t30_get_transfer_statistics(fax_get_t30_state(f[1]), &st);
        pages = st.pages_rx;
        for (int i = 0; i < 2; i++)
            fax_free(f[i]);
    }
    double c = cpu() - t0;
    double sim = samples / 8000.0;
    printf("%.1f %.3f %.0f %d %d %d\n", sim, c, 2.0 * sim / c, pages, worst[0], worst[1]);
    return 0;
}
