/*
 * Test-only peer: spandsp's own fax terminal as the far end of a softfax `exec:` line
 * (docs/contracts/lines.md). stdin carries what softfax transmits, stdout what this terminal sends back,
 * both s16le 8 kHz mono in lock-step blocks of 160 samples: read one block, feed it to the
 * terminal, write the terminal's next block, repeat. The call ends when spandsp's T.30
 * reaches phase E (this program then sends silence until softfax hangs up) or stdin closes.
 *
 * usage: spandsp_fax recv OUT.tif [OPTIONS]   (answer and receive)
 *        spandsp_fax send IN.tif [OPTIONS]    (call and send)
 * OPTIONS: --ecm (offer/use ECM; --no-ecm: not, the default), --rate (or --max-rate, as softfax's
 *          `fax` commands spell it) 14400|9600|4800 (the modems offered: V.17+V.29+V.27ter,
 *          V.29+V.27ter, V.27ter), --compression mh|mr|mmr (the best coding offered).
 * On exit one report line on stderr, `spandsp-fax: result=N (text)` then key=value fields: pages,
 * bit_rate, ecm (0/1), encoding (spandsp's T4_COMPRESSION_* number) and compression (its name:
 * mh, mr, mmr), width, length (pels and rows of the last page), bad_rows (of all pages), and
 * last remote_ident='…': the far end's TSI or CSI exactly as spandsp decoded it (its
 * t30_get_rx_ident), quotes around it so that spaces it kept show.
 * With SPANDSP_FAX_LOG set in the environment, spandsp's own T.30 and modem log (flow level,
 * with the sample time) goes to stderr too, for diagnosing a call.
 * Written for softfax's tests; not a copy of spandsp's test programs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#define BLOCK 160

static int done = 0;
static long samples = 0;

/* SPANDSP_FAX_LOG: each line of spandsp's log with the time of the call in seconds. */
static void log_line(int level, const char *text)
{
    (void) level;
    fprintf(stderr, "%8.3f %s", samples / 8000.0, text);
}
static int result = -1;

static void phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    (void) user_data;
    (void) s;
    result = completion_code;
    done = 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "recv") != 0)) {
        fprintf(stderr, "usage: spandsp_fax send|recv FILE.tif [--ecm]\n");
        return 2;
    }
    bool calling = strcmp(argv[1], "send") == 0;
    bool ecm = false;
    int rate = 14400;
    const char *compression = "mmr";
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--ecm") == 0)
            ecm = true;
        else if (strcmp(argv[i], "--no-ecm") == 0)
            ecm = false;
        else if ((strcmp(argv[i], "--rate") == 0 || strcmp(argv[i], "--max-rate") == 0) && i + 1 < argc)
            rate = atoi(argv[++i]);
        else if (strcmp(argv[i], "--compression") == 0 && i + 1 < argc)
            compression = argv[++i];
        else {
            fprintf(stderr, "spandsp-fax: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    fax_state_t *fax = fax_init(NULL, calling);
    if (fax == NULL) {
        fprintf(stderr, "spandsp-fax: fax_init failed\n");
        return 1;
    }
    t30_state_t *t30 = fax_get_t30_state(fax);
    if (getenv("SPANDSP_FAX_LOG") != NULL) {
        int level = SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_FLOW;
        logging_state_t *logs[] = {fax_get_logging_state(fax), t30_get_logging_state(t30),
                                   fax_modems_get_logging_state(&fax->modems)};
        for (int i = 0; i < 3; i++) {
            span_log_set_level(logs[i], level);
            span_log_set_message_handler(logs[i], log_line);
        }
    }
    t30_set_tx_ident(t30, calling ? "spandsp sender" : "spandsp receiver");
    if (calling)
        t30_set_tx_file(t30, argv[2], -1, -1);
    else
        t30_set_rx_file(t30, argv[2], -1);
    t30_set_ecm_capability(t30, ecm);
    int comp = T30_SUPPORT_T4_1D_COMPRESSION;
    if (strcmp(compression, "mr") == 0 || strcmp(compression, "mmr") == 0)
        comp |= T30_SUPPORT_T4_2D_COMPRESSION;
    if (strcmp(compression, "mmr") == 0 && ecm)
        comp |= T30_SUPPORT_T6_COMPRESSION;
    t30_set_supported_compressions(t30, comp);
    int modems = T30_SUPPORT_V27TER;
    if (rate >= 9600)
        modems |= T30_SUPPORT_V29;
    if (rate >= 14400)
        modems |= T30_SUPPORT_V17;
    t30_set_supported_modems(t30, modems);
    t30_set_phase_e_handler(t30, phase_e, NULL);
    fax_set_transmit_on_idle(fax, true);

    uint8_t raw[2 * BLOCK];
    int16_t in[BLOCK];
    int16_t out[BLOCK];
    for (;;) {
        size_t got = fread(raw, 1, sizeof(raw), stdin);
        if (got < sizeof(raw)) {
            /* softfax hung up. If our DCN was on its way out, let the terminal finish
               sending it (silence in, output discarded) so it reaches phase E. */
            for (int i = 0; i < 150 && !done; i++) {
                memset(in, 0, sizeof(in));
                fax_rx(fax, in, BLOCK);
                fax_tx(fax, out, BLOCK);
            }
            break;
        }
        for (int i = 0; i < BLOCK; i++)
            in[i] = (int16_t) (raw[2 * i] | (raw[2 * i + 1] << 8));
        if (!done)
            fax_rx(fax, in, BLOCK);
        samples += BLOCK;
        int n = done ? 0 : fax_tx(fax, out, BLOCK);
        for (int i = n; i < BLOCK; i++)
            out[i] = 0;
        for (int i = 0; i < BLOCK; i++) {
            raw[2 * i] = (uint8_t) (out[i] & 0xFF);
            raw[2 * i + 1] = (uint8_t) ((out[i] >> 8) & 0xFF);
        }
        if (fwrite(raw, 1, sizeof(raw), stdout) != sizeof(raw))
            break;
        fflush(stdout);
        if (done)
            break; /* phase E: release the line */
    }
    t30_stats_t st;
    t30_get_transfer_statistics(t30, &st);
    const char *rx_ident = t30_get_rx_ident(t30);
    const char *coding = st.encoding == T4_COMPRESSION_ITU_T4_1D   ? "mh"
                         : st.encoding == T4_COMPRESSION_ITU_T4_2D ? "mr"
                         : st.encoding == T4_COMPRESSION_ITU_T6    ? "mmr"
                                                                   : "other";
    fprintf(stderr,
            "spandsp-fax: result=%d (%s) pages=%d bit_rate=%d ecm=%d encoding=%d compression=%s "
            "width=%d length=%d bad_rows=%d remote_ident='%s'\n",
            result, result >= 0 ? t30_completion_code_to_str(result) : "no phase E",
            calling ? st.pages_tx : st.pages_rx, st.bit_rate, st.error_correcting_mode, st.encoding,
            coding, st.width, st.length, st.bad_rows, rx_ident ? rx_ident : "");
    fax_free(fax);
    return result == T30_ERR_OK ? 0 : 1;
}
