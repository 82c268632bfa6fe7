#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "db/lease.h"

int lease_take(struct db *db, struct lease *l, const char *name, int seconds)
{
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->token[0] = '\0';
	char token[33], secs[16], holder[300], host[256];
	if (random_hex(token, 16) < 0) {
		snprintf(db->err, sizeof(db->err), "no random bytes for a lease token");
		return -1;
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(holder, sizeof(holder), "pid %ld on %s", (long)getpid(), host);
	snprintf(secs, sizeof(secs), "%d", seconds);
	const char *p[4] = {name, holder, token, secs};
	PGresult *r = db_query(db,
	                       "UPDATE job_leases SET holder = $2, token = $3, taken_at = now(),"
	                       " until = now() + make_interval(secs => $4::int)"
	                       " WHERE name = $1 AND until < now() RETURNING 1",
	                       4, p);
	if (!r)
		return -1;
	int got = PQntuples(r) == 1;
	PQclear(r);
	if (got)
		memcpy(l->token, token, sizeof(l->token));
	return got;
}

int lease_renew(struct db *db, struct lease *l, int seconds)
{
	if (!l->token[0])
		return 0;
	char secs[16];
	snprintf(secs, sizeof(secs), "%d", seconds);
	const char *p[3] = {l->name, l->token, secs};
	PGresult *r =
	    db_query(db,
	             "UPDATE job_leases SET until = now() + make_interval(secs => $3::int)"
	             " WHERE name = $1 AND token = $2 AND until >= now() RETURNING 1",
	             3, p);
	if (!r)
		return -1;
	int held = PQntuples(r) == 1;
	PQclear(r);
	if (!held)
		l->token[0] = '\0';
	return held;
}

void lease_release(struct db *db, struct lease *l)
{
	if (!l->token[0])
		return;
	const char *p[2] = {l->name, l->token};
	db_exec(db,
	        "UPDATE job_leases SET until = '-infinity', token = NULL"
	        " WHERE name = $1 AND token = $2",
	        2, p);
	l->token[0] = '\0';
}
