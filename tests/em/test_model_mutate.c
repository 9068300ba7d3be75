/*
 * Mutation fuzzing of the model-file reader, as an ordinary deterministic test: valid
 * YAML and JSON models are damaged thousands of ways (bytes replaced with YAML's
 * punctuation and digits, spans deleted or duplicated, truncation), and each result
 * must either load, or fail with a negative errno and a message that starts with the
 * file's name. What loads must register, and export -> load must give it back. The
 * ASan/UBSan build runs this too, which is where a bad read would show.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"

#include "sample_model.h"

static const char json_model[] =
	"{\"domains\": [\n"
	" {\"name\": \"c\", \"cpus\": [0, 1], \"capacity\": 1024, \"flags\": [\"microwatts\"],\n"
	"  \"states\": [{\"frequency\": 1000, \"power\": 10}, {\"frequency\": 2000, \"power\": 30}]},\n"
	" {\"name\": \"d\", \"flags\": [\"microwatts\"], \"states\": [{\"frequency\": 5, \"power\": 7}]}\n"
	"]}\n";

static const char alphabet[] = "{}[]:,-#&*!|>'\"% \n\t0123456789az";

static size_t mutate(char *buf, size_t len, size_t cap, unsigned int *seed)
{
	unsigned int kind = (unsigned int)rand_r(seed) % 4;
	size_t at = len ? (size_t)rand_r(seed) % len : 0;

	switch (kind) {
	case 0: /* replace a byte */
		if (len)
			buf[at] = alphabet[(size_t)rand_r(seed) % (sizeof(alphabet) - 1)];
		return len;
	case 1: { /* delete a span */
		size_t n = 1 + (size_t)rand_r(seed) % 8;

		if (at + n > len)
			n = len - at;
		memmove(buf + at, buf + at + n, len - at - n);
		return len - n;
	}
	case 2: { /* duplicate a span */
		size_t n = 1 + (size_t)rand_r(seed) % 16;

		if (at + n > len)
			n = len - at;
		if (len + n > cap)
			return len;
		memmove(buf + at + n, buf + at, len - at);
		return len + n;
	}
	default: /* truncate */
		return at;
	}
}

static void check_one(const char *name, const char *buf, size_t len, unsigned int *loaded)
{
	struct em_model m, again;
	struct em_error err;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = em_model_load_buffer(&m, name, buf, len, &err);
	if (ret) {
		assert_true(ret < 0);
		if (strncmp(err.msg, name, strlen(name)))
			fail_msg("error without the file name: '%s'", err.msg);
		return;
	}
	(*loaded)++;
	{
		struct em_registry *reg = em_registry_new();
		char *text = NULL;
		size_t tlen = 0;
		FILE *f = open_memstream(&text, &tlen);

		assert_int_equal(em_model_register(&m, reg, &err), 0);
		assert_int_equal(em_model_write_yaml(&m, f), 0);
		fclose(f);
		if (em_model_load_buffer(&again, "export", text, tlen, &err))
			fail_msg("export of a loaded model does not load: %s\n%s", err.msg, text);
		assert_true(em_model_equal(&m, &again));
		em_model_release(&again);
		free(text);
		em_registry_free(reg);
	}
	em_model_release(&m);
}

static void fuzz(const char *name, const char *seed_text, unsigned int rounds, unsigned int seed)
{
	size_t cap = strlen(seed_text) * 4 + 64;
	char *buf = malloc(cap);
	unsigned int loaded = 0;

	assert_non_null(buf);
	for (unsigned int r = 0; r < rounds; r++) {
		size_t len = strlen(seed_text);
		unsigned int k = 1 + (unsigned int)rand_r(&seed) % 4;

		memcpy(buf, seed_text, len);
		for (unsigned int i = 0; i < k; i++)
			len = mutate(buf, len, cap, &seed);
		check_one(name, buf, len, &loaded);
	}
	print_message("# %s: %u of %u mutants loaded\n", name, loaded, rounds);
	free(buf);
}

static void test_mutate_yaml(void **state)
{
	(void)state;
	fuzz("m.yaml", sample_yaml, 10000, 1);
}

static void test_mutate_json(void **state)
{
	(void)state;
	fuzz("m.json", json_model, 10000, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutate_yaml),
		cmocka_unit_test(test_mutate_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
