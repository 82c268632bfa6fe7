
#include "core/alertlines.h"
#include "tenants/digest.h"

char *digest_text(const char *const *lines, size_t n, size_t max, size_t *shown)
{
	return alertlines_text(lines, n, n, max, shown);
}
