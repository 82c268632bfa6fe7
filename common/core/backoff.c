#include "core/backoff.h"

double backoff_delay(double base, double cap, int attempts, double spread, double jitter01)
{
	double d = base;
	/* Stop doubling at the cap: a large attempt count cannot overflow to infinity. */
	for (int i = 1; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (spread == 0)
		return d;
	return d * (1.0 - spread + 2.0 * spread * jitter01);
}
