#include "app/app.h"
#include "core/log.h"
#include "delivery/outbox.h"

/*
 * Kept out of app.c so that programs that never send (health, metrics,
 * configure, alerts) do not link libcurl and its TLS stack at all.
 */
void app_drain(struct app *app)
{
	struct drain_stats st;
	if (outbox_drain(&app->db, &app->cfg, provider_for(&app->cfg), APP_DRAIN_MAX, 0, &st) < 0)
		log_warnx("drain_failed", "drain after the request failed: %s", app->db.err);
	else if (st.claimed)
		log_info("drained", "sent %d, retry %d, failed %d of %d claimed", st.sent,
		         st.retried, st.failed, st.claimed);
}
