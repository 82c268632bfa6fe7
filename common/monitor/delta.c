#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/delta.h"
#include "core/util.h"

void counters_delta(const struct counters *prev, const struct counters *cur, struct delta *d)
{
	memset(d, 0, sizeof(*d));
	if (!prev || !prev->present) {
		snprintf(d->reason, sizeof(d->reason), "first check: no previous counters");
		return;
	}
	if (!cur->present) {
		snprintf(d->reason, sizeof(d->reason), "counters unavailable");
		return;
	}
	if (prev->postmaster_start != cur->postmaster_start) {
		snprintf(d->reason, sizeof(d->reason),
		         "server restarted since the last check: counters reset");
		return;
	}
	if (strcmp(prev->stats_reset, cur->stats_reset) != 0) {
		snprintf(d->reason, sizeof(d->reason), "statistics reset since the last check");
		return;
	}
	d->commit = cur->xact_commit - prev->xact_commit;
	d->rollback = cur->xact_rollback - prev->xact_rollback;
	d->blks_read = cur->blks_read - prev->blks_read;
	d->blks_hit = cur->blks_hit - prev->blks_hit;
	d->deadlocks = cur->deadlocks - prev->deadlocks;
	if (d->commit < 0 || d->rollback < 0 || d->blks_read < 0 || d->blks_hit < 0 ||
	    d->deadlocks < 0) {
		memset(d, 0, sizeof(*d));
		snprintf(d->reason, sizeof(d->reason),
		         "a counter went down since the last check: counters reset");
		return;
	}
	d->valid = 1;
}

static int by_mean_desc(const void *a, const void *b)
{
	const struct stmt_delta *x = a, *y = b;
	return (x->mean_ms < y->mean_ms) - (x->mean_ms > y->mean_ms);
}

size_t stmt_deltas(const struct stmt_set *prev, const struct stmt_set *cur, double min_calls,
                   struct stmt_delta *out, size_t max)
{
	size_t n = 0;
	struct stmt_delta *all = xcalloc(cur->n ? cur->n : 1, sizeof(*all));
	for (size_t i = 0; i < cur->n; i++) {
		const struct stmt *c = &cur->v[i];
		for (size_t j = 0; j < prev->n; j++) {
			const struct stmt *p = &prev->v[j];
			if (strcmp(p->key, c->key) != 0)
				continue;
			double dc = c->calls - p->calls, dt = c->total_ms - p->total_ms;
			if (dc >= min_calls && dc > 0 && dt >= 0) {
				all[n].stmt = c;
				all[n].calls = dc;
				all[n].total_ms = dt;
				all[n].mean_ms = dt / dc;
				n++;
			}
			break;
		}
	}
	qsort(all, n, sizeof(*all), by_mean_desc);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(*all));
	free(all);
	return n;
}

int linear_slope(const double *x, const double *y, size_t n, double *slope)
{
	if (n < 2)
		return -1;
	double mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	double sxx = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (sxx <= 0 || !isfinite(sxx))
		return -1;
	*slope = sxy / sxx;
	return 0;
}
