/*
 * backoff.h: how long to wait before trying again, one rule for every retry.
 *
 * The delay doubles with each failed attempt from base, never passes cap, and is spread by a
 * jitter so that many retries scheduled at once do not come back at once. Pure: no state, no
 * clock, no randomness of its own (the caller passes its random number, so tests can pin it).
 */
#ifndef BACKOFF_H
#define BACKOFF_H

/*
 * Seconds before attempt n+1 after n failed ones (n >= 1; n < 1 counts as 1):
 * base * 2^(n-1), at most cap, then multiplied by (1 - spread + 2 * spread * jitter01), so
 * that jitter01 in [0, 1) spreads it by +-spread (0.2: +-20%). spread 0: no jitter (jitter01
 * is ignored), the doubling alone.
 */
double backoff_delay(double base, double cap, int attempts, double spread, double jitter01);

#endif
