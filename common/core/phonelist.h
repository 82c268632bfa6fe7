/*
 * phonelist.h: a routing list of numbers (CRITICAL_PHONE_1..10 and the like).
 *
 * A fixed-size value, copied freely: at most PHONE_LIST_MAX normalised E.164
 * numbers, each once, in the order they were added. Nothing allocates and
 * nothing can fail; an add past the end is refused, not an error.
 */
#ifndef PHONELIST_H
#define PHONELIST_H

#include "core/phone.h"

#define PHONE_LIST_MAX 10

struct phone_list {
	int n;
	char num[PHONE_LIST_MAX][PHONE_MAX];
};

/* Is phone in l? */
int phone_list_has(const struct phone_list *l, const char *phone);
/* Add phone unless it is there already or l is full. 1 added, 0 not. */
int phone_list_add(struct phone_list *l, const char *phone);

#endif
