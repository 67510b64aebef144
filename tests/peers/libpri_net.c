/*
 * libpri_net: libpri (1.6, Debian libpri-dev) as the NETWORK side of a PRI D-channel, the
 * test peer of softfax's Q.921/Q.931 user side (drivers/tests/isdn_libpri.rs).
 *
 * Usage: libpri_net FD SCENARIO [SWITCHTYPE]
 *   FD        one end of a SOCK_DGRAM/SOCK_SEQPACKET socketpair (one frame per datagram,
 *             two FCS placeholder bytes after each frame: libpri's own convention)
 *   SCENARIO  answer       CALL PROCEEDING, ALERTING, CONNECT; wait for the user to clear
 *             clear        as answer, then the network clears with cause 16 after 1 s
 *             busy         CALL PROCEEDING, then DISCONNECT cause 17
 *             unallocated  DISCONNECT cause 1 at once
 *   SWITCHTYPE libpri switch type number (default 5 = EuroISDN E1)
 *
 * Prints one line per event on stdout ("UP", "RING channel=N called=… bearer=0x10 layer1=…",
 * "HANGUP_REQ cause=N", "HANGUP cause=N", "HANGUP_ACK"), exits 0 once the call is
 * released (unallocated: once its RELEASE COMPLETE is sent), 2 on a usage error, 3 after a
 * 30 s safety timeout. Test-only: libpri is
 * GPL-2.0-only and is never linked into softfax.
 */
#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

static void msg(struct pri *p, char *s) { (void)p; fprintf(stderr, "libpri: %s", s); }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: libpri_net FD answer|clear|busy|unallocated [SWITCHTYPE]\n");
        return 2;
    }
    int fd = atoi(argv[1]);
    const char *scenario = argv[2];
    int sw = argc > 3 ? atoi(argv[3]) : PRI_SWITCH_EUROISDN_E1;
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
    q931_call *call = NULL;
    int channel = 0;
    double clear_at = 0, end_at = 0, give_up = now_s() + 30;
    for (;;) {
        double t = now_s();
        if (t > give_up) {
            printf("TIMEOUT\n");
            return 3;
        }
        if (end_at && t > end_at)
            return 0;
        if (clear_at && t > clear_at && call) {
            clear_at = 0;
            pri_hangup(pri, call, PRI_CAUSE_NORMAL_CLEARING);
        }
        struct timeval tv = {0, 50000}, *next = pri_schedule_next(pri);
        if (next) {
            struct timeval cur;
            gettimeofday(&cur, NULL);
            long us = (next->tv_sec - cur.tv_sec) * 1000000L + (next->tv_usec - cur.tv_usec);
            if (us < 0) us = 0;
            if (us < 50000) { tv.tv_sec = 0; tv.tv_usec = us; }
        }
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        int n = select(fd + 1, &r, NULL, NULL, &tv);
        pri_event *e = n > 0 ? pri_check_event(pri) : pri_schedule_run(pri);
        if (!e)
            continue;
        switch (e->e) {
        case PRI_EVENT_DCHAN_UP:
            printf("UP\n");
            break;
        case PRI_EVENT_DCHAN_DOWN:
            printf("DOWN\n");
            break;
        case PRI_EVENT_RING:
            call = e->ring.call;
            channel = e->ring.channel;
            printf("RING channel=%d called=%s calling=%s bearer=0x%02x layer1=%d\n",
                   e->ring.channel, e->ring.callednum, e->ring.callingnum, e->ring.ctype,
                   e->ring.layer1);
            if (!strcmp(scenario, "unallocated")) {
                /* Refused with RELEASE COMPLETE: released here, no event follows. */
                pri_hangup(pri, call, PRI_CAUSE_UNALLOCATED);
                call = NULL;
                end_at = now_s() + 0.3;
            } else if (!strcmp(scenario, "busy")) {
                pri_proceeding(pri, call, channel, 0);
                pri_hangup(pri, call, PRI_CAUSE_USER_BUSY);
            } else {
                pri_proceeding(pri, call, channel, 0);
                pri_acknowledge(pri, call, channel, 1); /* ALERTING with in-band info */
                pri_answer(pri, call, channel, 0);
                if (!strcmp(scenario, "clear"))
                    clear_at = now_s() + 1.0;
            }
            break;
        case PRI_EVENT_HANGUP_REQ:
            printf("HANGUP_REQ cause=%d\n", e->hangup.cause);
            pri_hangup(pri, e->hangup.call, e->hangup.cause);
            break;
        case PRI_EVENT_HANGUP:
            printf("HANGUP cause=%d\n", e->hangup.cause);
            /* The application completes the release (RELEASE COMPLETE), as chan_dahdi does. */
            pri_hangup(pri, e->hangup.call, e->hangup.cause);
            call = NULL;
            end_at = now_s() + 0.3;
            break;
        case PRI_EVENT_HANGUP_ACK:
            printf("HANGUP_ACK cause=%d\n", e->hangup.cause);
            call = NULL;
            end_at = now_s() + 0.3;
            break;
        case PRI_EVENT_CONNECT_ACK:
            printf("CONNECT_ACK\n");
            break;
        default:
            printf("EVENT %d %s\n", e->e, pri_event2str(e->e));
            break;
        }
    }
}
