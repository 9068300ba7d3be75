/*
 * em_model_read_file(): the model file read as a stream, domain by domain, and what
 * it refuses to read —
 *   - domains come in file order, each checked, with its lines;
 *   - a FIFO at the path is refused at once (before, open() waited for a writer
 *     and emd answered nobody), as are a socket, a device and a directory;
 *   - a file rewritten while it is read is refused with -EAGAIN (the callback
 *     rewrites it in the middle of the read, as a writer racing a reload does);
 *   - aliases are refused (the billion-laughs attack on a walker that expands them);
 *   - a callback's error stops the read and carries the domain's line.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "emkit/em.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/em-read.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* A model of @n device domains d0.. with one state each. */
static void write_model(const char *path, unsigned int n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "domains:\n");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "  - {name: d%u, flags: [microwatts], states: [{frequency: %u, power: %u}]}\n",
			i, 1000 + i, 10 + i);
	assert_int_equal(fclose(f), 0);
}

struct seen {
	unsigned int n;
	char names[8][EM_NAME_MAX];
	unsigned int lines[8];
	const char *rewrite; /* rewrite this file when the second domain comes */
	int stop_at;         /* return -EXDEV at this domain (-1: never) */
};

static int on_domain(void *ctx, struct em_model_domain *d, struct em_error *err)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", d->name);
		s->lines[s->n] = d->line;
	}
	if (s->rewrite && s->n == 1) {
		/* In place, as an editor without rename, or `cat > FILE`. */
		int fd = open(s->rewrite, O_WRONLY | O_APPEND);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "# more\n", 7), 7);
		close(fd);
	}
	if ((int)s->n++ == s->stop_at) {
		snprintf(err->msg, sizeof(err->msg), "stopped at %s", d->name);
		return -EXDEV;
	}
	return 0;
}

static void test_stream_order_and_lines(void **state)
{
	char path[128];
	struct seen s = {.stop_at = -1};
	struct em_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s/m.yaml", dir);
	write_model(path, 5);
	assert_int_equal(em_model_read_file(path, on_domain, &s, &err), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.names[0], "d0");
	assert_string_equal(s.names[4], "d4");
	assert_int_equal(s.lines[0], 2);
	assert_int_equal(s.lines[4], 6);
	/* The callback's error stops the read, with the domain's line. */
	s = (struct seen){.stop_at = 2};
	assert_int_equal(em_model_read_file(path, on_domain, &s, &err), -EXDEV);
	assert_int_equal(s.n, 3);
	assert_true(strstr(err.msg, "m.yaml:4: stopped at d2") != NULL);
}

static void test_not_a_regular_file(void **state)
{
	char path[128];
	struct seen s = {.stop_at = -1};
	struct em_error err;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	(void)state;
	/* A FIFO with no writer: refused at once, never waited on. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(em_model_read_file(path, on_domain, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file (a FIFO)"));
	/* A socket. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(em_model_read_file(sa.sun_path, on_domain, &s, &err), -ENXIO);
	close(fd);
	/* A character device. */
	assert_int_equal(em_model_read_file("/dev/zero", on_domain, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file (a character device)"));
	/* A directory. */
	assert_int_equal(em_model_read_file(dir, on_domain, &s, &err), -EISDIR);
	assert_int_equal(s.n, 0);
}

static void test_changed_while_read(void **state)
{
	char path[128];
	struct seen s = {.stop_at = -1};
	struct em_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s/m.yaml", dir);
	write_model(path, 3000); /* larger than what is read ahead */
	s.rewrite = path;
	assert_int_equal(em_model_read_file(path, on_domain, &s, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "the file changed while it was read"));
	/* Settled: taken. */
	s = (struct seen){.stop_at = -1};
	assert_int_equal(em_model_read_file(path, on_domain, &s, &err), 0);
	assert_int_equal(s.n, 3000);
}

static void test_aliases_refused(void **state)
{
	char path[128];
	struct seen s = {.stop_at = -1};
	struct em_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s/alias.yaml", dir);
	write_text(path, "domains:\n"
			 "  - name: a\n    flags: &f [microwatts]\n"
			 "    states: [{frequency: 1, power: 1}]\n"
			 "  - name: b\n    flags: *f\n"
			 "    states: [{frequency: 1, power: 1}]\n");
	assert_int_equal(em_model_read_file(path, on_domain, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "alias.yaml:6: domains[1].flags: aliases (*f) are not "
					"supported"));
	assert_int_equal(s.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_order_and_lines),
		cmocka_unit_test(test_not_a_regular_file),
		cmocka_unit_test(test_changed_while_read),
		cmocka_unit_test(test_aliases_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
