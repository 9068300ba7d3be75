/*
 * libFuzzer target: the model-file parser of lib/em (YAML through libyaml,
 * JSON through json-c then the same walker), em_model_load_buffer().
 *
 * Any input must either load or fail with a negative errno and a message
 * that names the source; a load must never crash, leak or read past the
 * buffer (the input is handed over in a heap block of exactly its size, not
 * NUL-terminated). What loads must also survive the documented round trip:
 * em_model_write_yaml() writes a file that loads back to an equal model
 * (em_model_equal), and writing that again gives the same bytes. A broken
 * round trip aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emkit/em.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-model-file: %s: %s\n", what, detail);
	abort();
}

/* Write @m as YAML into a new heap buffer (*len bytes). */
static char *to_yaml(const struct em_model *m, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	if (em_model_write_yaml(m, f) < 0)
		die("em_model_write_yaml failed", m->source);
	if (fclose(f))
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_model m = {0}, back = {0};
	struct em_error err = {{0}};
	char *text, *again;
	size_t len, len2;
	int rc = em_model_load_buffer(&m, "fuzz", (const char *)data, size, &err);

	if (rc < 0) {
		if (!err.msg[0])
			die("refused without a message", "");
		if (rc != -ENOMEM && strncmp(err.msg, "fuzz", 4))
			die("message does not name the source", err.msg);
		/* em.h documents EINVAL, ERANGE, ENOMEM for loads; the registry
		 * adds EEXIST (a name or CPU given to two domains). */
		if (rc != -EINVAL && rc != -ERANGE && rc != -ENOMEM && rc != -EEXIST)
			die("unexpected errno", err.msg);
		em_model_release(&m);
		return 0;
	}
	if (rc != 0)
		die("unexpected return value", "");
	text = to_yaml(&m, &len);
	if (em_model_load_buffer(&back, "fuzz-export", text, len, &err) < 0) {
		fprintf(stderr, "%.*s\n", (int)len, text);
		die("exported model does not load", err.msg);
	}
	if (!em_model_equal(&m, &back)) {
		fprintf(stderr, "%.*s\n", (int)len, text);
		die("exported model differs from the loaded one", "");
	}
	again = to_yaml(&back, &len2);
	if (len2 != len || memcmp(text, again, len))
		die("exporting twice gives different bytes", "");
	free(again);
	free(text);
	em_model_release(&back);
	em_model_release(&m);
	return 0;
}
