#include <stdio.h>
#include <string.h>

#include "core/phonelist.h"

int phone_list_has(const struct phone_list *l, const char *phone)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->num[i], phone) == 0)
			return 1;
	return 0;
}

int phone_list_add(struct phone_list *l, const char *phone)
{
	if (l->n >= PHONE_LIST_MAX || phone_list_has(l, phone))
		return 0;
	snprintf(l->num[l->n++], PHONE_MAX, "%s", phone);
	return 1;
}
