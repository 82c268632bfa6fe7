#include "delivery/provider.h"
#include "jobs/drain.h"
#include "webhook/inbound.h"
#include "webhook/webhook.h"

static const char *const step_names[DRAIN_STEP_COUNT] = {
    [DRAIN_STEP_WEBHOOK_RETRIES] = "webhook_retries",
    [DRAIN_STEP_PAUSE_END] = "pause_end",
    [DRAIN_STEP_FALLBACK] = "fallback",
    [DRAIN_STEP_ESCALATE] = "escalate",
    [DRAIN_STEP_SEND] = "drain",
};

const char *drain_step_name(enum drain_step s)
{
	return s < DRAIN_STEP_COUNT ? step_names[s] : "?";
}

int drain_step(struct db *db, struct config *cfg, enum drain_step s, struct drain_run *run)
{
	switch (s) {
	case DRAIN_STEP_WEBHOOK_RETRIES:
		return webhook_process_due(db, cfg, DRAIN_WEBHOOK_BATCH, &run->ws) == 0 ? 0 : -1;
	case DRAIN_STEP_PAUSE_END: {
		int pe = inbound_announce_pause_end(db, cfg);
		run->pause_announced = pe == 1;
		return pe < 0 ? -1 : 0;
	}
	case DRAIN_STEP_FALLBACK:
		return fallback_run(db, cfg, &run->fs) == 0 ? 0 : -1;
	case DRAIN_STEP_ESCALATE:
		return escalate_run(db, cfg, &run->es) == 0 ? 0 : -1;
	case DRAIN_STEP_SEND:
		return outbox_drain(db, cfg, provider_for(cfg), 0, DRAIN_WAIT_PACED, &run->ds) == 0
		           ? 0
		           : -1;
	case DRAIN_STEP_COUNT:
		break;
	}
	return -1;
}

static void add_int(struct json_object *o, const char *name, int v)
{
	json_object_object_add(o, name, json_object_new_int(v));
}

struct json_object *drain_step_json(enum drain_step s, const struct drain_run *run)
{
	struct json_object *o = json_object_new_object();
	switch (s) {
	case DRAIN_STEP_WEBHOOK_RETRIES:
		add_int(o, "events", run->ws.events);
		add_int(o, "failed", run->ws.failed);
		add_int(o, "ignored", run->ws.ignored);
		add_int(o, "stale_commands", run->ws.stale);
		break;
	case DRAIN_STEP_PAUSE_END:
		json_object_object_add(o, "announced",
		                       json_object_new_boolean(run->pause_announced));
		break;
	case DRAIN_STEP_FALLBACK:
		add_int(o, "examined", run->fs.examined);
		add_int(o, "queued", run->fs.queued);
		add_int(o, "sms", run->fs.sms);
		add_int(o, "email", run->fs.email);
		add_int(o, "exhausted", run->fs.exhausted);
		break;
	case DRAIN_STEP_ESCALATE:
		add_int(o, "escalated", run->es.escalated);
		add_int(o, "repeated", run->es.repeated);
		break;
	case DRAIN_STEP_SEND:
		add_int(o, "replayed", run->ds.replayed);
		add_int(o, "quarantined", run->ds.quarantined);
		add_int(o, "sent", run->ds.sent);
		add_int(o, "merged", run->ds.merged);
		add_int(o, "retried", run->ds.retried);
		add_int(o, "failed", run->ds.failed);
		json_object_object_add(o, "stopped", json_object_new_boolean(run->ds.stopped));
		break;
	case DRAIN_STEP_COUNT:
		break;
	}
	return o;
}

int drain_all(struct db *db, struct config *cfg, struct drain_run *run, enum drain_step *failed)
{
	for (int s = 0; s < DRAIN_STEP_COUNT; s++)
		if (drain_step(db, cfg, (enum drain_step)s, run) < 0) {
			*failed = (enum drain_step)s;
			return -1;
		}
	return 0;
}
