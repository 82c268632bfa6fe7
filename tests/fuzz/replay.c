/*
 * replay.c: run a fuzz harness over a corpus without libFuzzer, as a
 * regression test (make fuzz-replay, tests/run-all.sh).
 *
 *   replay_<name> FILE|DIR...
 *
 * Each file (each regular file of a directory, in name order, not
 * recursively) is read into a buffer of exactly its size, so that
 * AddressSanitizer catches a parser reading past the end, and passed to
 * LLVMFuzzerTestOneInput(). A broken invariant or a sanitizer report aborts
 * the process, and a SIGABRT handler names the input being replayed (-v
 * names every input before it runs). The last line is "N passed, 0 failed"
 * with N the number of inputs replayed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "core/util.h"

static size_t replayed;
static int verbose;
/* The input being replayed, for the SIGABRT handler. */
static const char *volatile current;

static void on_abort(int sig)
{
	const char *p = current;
	if (p) {
		static const char pre[] = "replay: aborted while replaying ";
		ssize_t r = write(STDERR_FILENO, pre, sizeof(pre) - 1);
		r = write(STDERR_FILENO, p, strlen(p));
		r = write(STDERR_FILENO, "\n", 1);
		(void)r;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read the whole file at path into a new buffer of exactly its size (NULL when empty). */
static int read_all(const char *path, uint8_t **out, size_t *len)
{
	int ret = -1;
	uint8_t *data = NULL;
	size_t n = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		uint8_t tmp[4096];
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (n + (size_t)r > cap) {
			cap = (n + (size_t)r) * 2;
			data = xrealloc(data, cap);
		}
		memcpy(data + n, tmp, (size_t)r);
		n += (size_t)r;
	}
	/*
	 * Exactly n bytes, so that a read past the end is caught; like libFuzzer,
	 * never a NULL pointer, even for an empty input.
	 */
	*out = malloc(n);
	if (!*out && n == 0)
		*out = malloc(1);
	if (!*out) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	if (n)
		memcpy(*out, data, n);
	*len = n;
	ret = 0;
out:
	free(data);
	close(fd);
	return ret;
}

static int replay_file(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;

	if (read_all(path, &data, &len) < 0)
		return -1;
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	current = path;
	LLVMFuzzerTestOneInput(data, len);
	current = NULL;
	free(data);
	replayed++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
	int ret = 0;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && replay_file(names[i]) < 0)
			ret = -1;
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	int failed = 0, first = 1;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		first = 2;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
		return 2;
	}
	signal(SIGABRT, on_abort);
	for (int i = first; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed++;
		} else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) < 0
		                               : replay_file(argv[i]) < 0) {
			failed++;
		}
	}
	printf("%zu passed, %d failed\n", replayed, failed);
	return failed ? 1 : 0;
}
