/*
 * libpri_span: libpri (1.6, Debian libpri-dev) as the NETWORK side of a whole PRI span on
 * one D-channel, scripted on stdin: the test peer of softfax's shared D-channel
 * (drivers/tests/isdn_libpri.rs, tests/onramp_pri.rs).
 *
 * Usage: libpri_span FD [SWITCHTYPE]
 *   FD         one end of a SOCK_DGRAM socketpair (one frame per datagram, two FCS
 *              placeholder bytes after each frame: libpri's own convention)
 *   SWITCHTYPE libpri switch type number (default 5 = EuroISDN E1)
 *
 * The network keeps a table of its B-channels (1-31). A SETUP from the user on a free
 * channel is answered (CALL PROCEEDING, ALERTING, CONNECT on that channel); on a busy one
 * it is moved to the lowest free channel when the user's channel was preferred, refused
 * with 44 when exclusive (glare: the network's own call has the channel, Q.931 5.1.2).
 * Commands, one a line on stdin:
 *   call CH NUMBER [CALLING]  SETUP to the user on channel CH (exclusive), A-law 3.1 kHz
 *   glare CH NUMBER           when the user's SETUP for CH comes, first send a SETUP of
 *                             ours for CH (preferred) and then refuse the user's with 44:
 *                             the two SETUPs crossed, as the user side sees it
 *   hangup CH CAUSE           clear the call on channel CH
 *   restart CH                RESTART channel CH
 *   quit                      exit 0 (exit 0 also at the end of stdin)
 * Events, one a line on stdout:
 *   UP, DOWN, RESTART channel=N, RESTART_ACK channel=N,
 *   RING channel=N flexible=0|1 called=... calling=... then ANSWERED channel=N,
 *   MOVED from=N to=M or REFUSED channel=N cause=44,
 *   GLARE channel=N, PROCEEDING channel=N (MOVED_BY_USER from=N to=M when the user's
 *   CALL PROCEEDING names another channel), ANSWER channel=N (the user answered our call),
 *   HANGUP_REQ channel=N cause=N, HANGUP channel=N cause=N, HANGUP_ACK channel=N.
 * Exits 3 after a 60 s safety timeout. Test-only: libpri is GPL-2.0-only and is never
 * linked into softfax.
 */
#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void msg(struct pri *p, char *s) { (void)p; fprintf(stderr, "libpri: %s", s); }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static q931_call *chan[32];
static int glare_ch;
static char glare_num[64];

static int chan_of(q931_call *c) {
    for (int i = 1; i < 32; i++)
        if (chan[i] == c)
            return i;
    return 0;
}

static void place(struct pri *pri, int ch, int exclusive, char *num, char *calling) {
    if (ch < 1 || ch > 31 || chan[ch]) {
        printf("BUSY channel=%d\n", ch);
        return;
    }
    q931_call *c = pri_new_call(pri);
    struct pri_sr *sr = pri_sr_new();
    pri_sr_set_channel(sr, ch, exclusive, 0);
    pri_sr_set_bearer(sr, PRI_TRANS_CAP_3_1K_AUDIO, PRI_LAYER_1_ALAW);
    pri_sr_set_called(sr, num, PRI_UNKNOWN, 1);
    if (calling && calling[0])
        pri_sr_set_caller(sr, calling, NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
    if (pri_setup(pri, c, sr))
        printf("SETUP_FAILED channel=%d\n", ch);
    else
        chan[ch] = c;
    pri_sr_free(sr);
}

static void command(struct pri *pri, char *line) {
    int ch = 0, cause = 0;
    char num[64] = "", calling[64] = "";
    if (sscanf(line, "call %d %63s %63s", &ch, num, calling) >= 2) {
        place(pri, ch, 1, num, calling);
    } else if (sscanf(line, "glare %d %63s", &ch, num) == 2) {
        glare_ch = ch;
        snprintf(glare_num, sizeof glare_num, "%s", num);
    } else if (sscanf(line, "hangup %d %d", &ch, &cause) == 2) {
        if (ch >= 1 && ch <= 31 && chan[ch])
            pri_hangup(pri, chan[ch], cause);
    } else if (sscanf(line, "restart %d", &ch) == 1) {
        if (ch >= 1 && ch <= 31) {
            chan[ch] = NULL;
            pri_reset(pri, ch);
        }
    } else if (!strncmp(line, "quit", 4)) {
        exit(0);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: libpri_span FD [SWITCHTYPE]\n");
        return 2;
    }
    int fd = atoi(argv[1]);
    int sw = argc > 2 ? atoi(argv[2]) : PRI_SWITCH_EUROISDN_E1;
    pri_set_message(msg);
    pri_set_error(msg);
    struct pri *pri = pri_new(fd, PRI_NETWORK, sw);
    if (!pri) {
        fprintf(stderr, "pri_new failed\n");
        return 2;
    }
    if (getenv("LIBPRI_DEBUG"))
        pri_set_debug(pri, PRI_DEBUG_Q921_DUMP | PRI_DEBUG_Q931_DUMP);
    setvbuf(stdout, NULL, _IOLBF, 0);
    double give_up = now_s() + 60;
    char buf[4096];
    size_t have = 0;
    int stdin_open = 1;
    for (;;) {
        if (now_s() > give_up) {
            printf("TIMEOUT\n");
            return 3;
        }
        struct timeval tv = {0, 20000}, *next = pri_schedule_next(pri);
        if (next) {
            struct timeval cur;
            gettimeofday(&cur, NULL);
            long us = (next->tv_sec - cur.tv_sec) * 1000000L + (next->tv_usec - cur.tv_usec);
            if (us < 0) us = 0;
            if (us < 20000) { tv.tv_sec = 0; tv.tv_usec = us; }
        }
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        if (stdin_open)
            FD_SET(0, &r);
        int n = select(fd + 1, &r, NULL, NULL, &tv);
        if (n > 0 && stdin_open && FD_ISSET(0, &r)) {
            ssize_t k = read(0, buf + have, sizeof buf - 1 - have);
            if (k <= 0) {
                return 0;
            }
            have += k;
            buf[have] = 0;
            char *nl;
            while ((nl = strchr(buf, '\n'))) {
                *nl = 0;
                command(pri, buf);
                size_t used = nl + 1 - buf;
                memmove(buf, nl + 1, have - used + 1);
                have -= used;
            }
            if (!FD_ISSET(fd, &r))
                continue;
        }
        pri_event *e = (n > 0 && FD_ISSET(fd, &r)) ? pri_check_event(pri) : pri_schedule_run(pri);
        if (!e)
            continue;
        int ch;
        switch (e->e) {
        case PRI_EVENT_DCHAN_UP:
            printf("UP\n");
            break;
        case PRI_EVENT_DCHAN_DOWN:
            printf("DOWN\n");
            break;
        case PRI_EVENT_RESTART:
            ch = e->restart.channel & 0xFF;
            printf("RESTART channel=%d\n", e->restart.channel < 0 ? -1 : ch);
            if (e->restart.channel < 0 || ch == 0xFF)
                memset(chan, 0, sizeof chan);
            else if (ch < 32)
                chan[ch] = NULL;
            break;
        case PRI_EVENT_RESTART_ACK:
            printf("RESTART_ACK channel=%d\n", e->restartack.channel & 0xFF);
            break;
        case PRI_EVENT_RING: {
            q931_call *c = e->ring.call;
            ch = e->ring.channel & 0xFF;
            printf("RING channel=%d flexible=%d called=%s calling=%s\n", ch, e->ring.flexible,
                   e->ring.callednum, e->ring.callingnum);
            if (glare_ch && ch == glare_ch) {
                printf("GLARE channel=%d\n", ch);
                glare_ch = 0;
                place(pri, ch, 0, glare_num, NULL);
            }
            if (ch < 1 || ch > 31 || chan[ch]) {
                int to = 0;
                if (e->ring.flexible)
                    for (int i = 1; i < 32 && !to; i++)
                        if (i != 16 && !chan[i])
                            to = i;
                if (!to) {
                    printf("REFUSED channel=%d cause=44\n", ch);
                    pri_hangup(pri, c, PRI_CAUSE_REQUESTED_CHAN_UNAVAIL);
                    break;
                }
                printf("MOVED from=%d to=%d\n", ch, to);
                ch = to;
            }
            chan[ch] = c;
            pri_proceeding(pri, c, ch, 0);
            pri_acknowledge(pri, c, ch, 1);
            pri_answer(pri, c, ch, 0);
            printf("ANSWERED channel=%d\n", ch);
            break;
        }
        case PRI_EVENT_PROCEEDING: {
            int was = chan_of(e->proceeding.call);
            ch = e->proceeding.channel & 0xFF;
            if (ch >= 1 && ch <= 31 && was && ch != was) {
                printf("MOVED_BY_USER from=%d to=%d\n", was, ch);
                chan[was] = NULL;
                chan[ch] = e->proceeding.call;
            }
            printf("PROCEEDING channel=%d\n", chan_of(e->proceeding.call));
            break;
        }
        case PRI_EVENT_ANSWER:
            printf("ANSWER channel=%d\n", chan_of(e->answer.call));
            break;
        case PRI_EVENT_HANGUP_REQ:
            printf("HANGUP_REQ channel=%d cause=%d\n", chan_of(e->hangup.call), e->hangup.cause);
            pri_hangup(pri, e->hangup.call, e->hangup.cause);
            break;
        case PRI_EVENT_HANGUP:
            ch = chan_of(e->hangup.call);
            printf("HANGUP channel=%d cause=%d\n", ch, e->hangup.cause);
            /* The application completes the release, as chan_dahdi does. */
            pri_hangup(pri, e->hangup.call, e->hangup.cause);
            if (ch)
                chan[ch] = NULL;
            break;
        case PRI_EVENT_HANGUP_ACK:
            ch = chan_of(e->hangup.call);
            printf("HANGUP_ACK channel=%d\n", ch);
            if (ch)
                chan[ch] = NULL;
            break;
        case PRI_EVENT_CONNECT_ACK:
            break;
        default:
            printf("EVENT %d %s\n", e->e, pri_event2str(e->e));
            break;
        }
    }
}
