/*
 * pgarray.h: PostgreSQL array literals, for passing a list as one parameter
 * ("... WHERE id = ANY($1::bigint[])") instead of building SQL from values.
 *
 * pg_bigint_array's text is made from integers only, so nothing in it needs quoting;
 * pg_text_array quotes every element (a " or \ in it escaped), so any text round-trips.
 * Out of memory aborts (x-allocators); nothing else can fail.
 */
#ifndef PGARRAY_H
#define PGARRAY_H

#include <stddef.h>

/* "{1,2,3}" of v[0..n), "{}" when n is 0 (v may then be NULL). Caller frees. */
char *pg_bigint_array(const long long *v, size_t n);

/* {"a","b c"} of v[0..n) for a $n::text[] parameter (NULL elements read ""); "{}"
 * when n is 0. Caller frees. */
char *pg_text_array(const char *const *v, size_t n);

#endif
