/*
 * emctl's one output style. JSON is printed as the kernel's ynl CLI prints it
 * with --output-json — Python's json.dumps() with its defaults: one line,
 * ", " between items and ": " after keys, non-ASCII as \uXXXX, '/' as is,
 * floats as Python's repr() — so that emctl's output and ynl's compare as
 * text. A domain is printed in one layout wherever it comes from (emd, the
 * kernel, a model file): a line for the domain, then a table of its states
 * with the units in the header. Every write is checked before emctl exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "emctl.h"
#include "emkit/em.h"

/* ---- JSON ---------------------------------------------------------------------------- */

/* One code point as \uXXXX (two, a surrogate pair, above U+FFFF). */
static void put_u(FILE *out, unsigned long cp)
{
	if (cp > 0xffff) {
		cp -= 0x10000;
		fprintf(out, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
	} else {
		fprintf(out, "\\u%04lx", cp);
	}
}

/* The length of the UTF-8 sequence at @s (its code point in *@cp), or 0 if
 * it is not one. */
static size_t utf8(const unsigned char *s, size_t left, unsigned long *cp)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	unsigned long v;

	if (!n || n > left || s[0] > 0xf4)
		return 0;
	v = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static void put_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned long cp;
		size_t n;

		switch (p[i]) {
		case '"': fputs("\\\"", out); continue;
		case '\\': fputs("\\\\", out); continue;
		case '\n': fputs("\\n", out); continue;
		case '\r': fputs("\\r", out); continue;
		case '\t': fputs("\\t", out); continue;
		case '\b': fputs("\\b", out); continue;
		case '\f': fputs("\\f", out); continue;
		default: break;
		}
		if (p[i] < 0x20) {
			put_u(out, p[i]);
		} else if (p[i] < 0x80) {
			fputc(p[i], out);
		} else if ((n = utf8(p + i, len - i, &cp))) {
			put_u(out, cp);
			i += n - 1;
		} else {
			put_u(out, p[i]); /* not UTF-8: the byte as Latin-1 */
		}
	}
	fputc('"', out);
}

/* A double as Python's repr(): the shortest digits that read back the same,
 * positional from 1e-4 to below 1e16, with ".0" when whole. */
static void put_double(FILE *out, double v)
{
	char digits[40], buf[64];
	int exp, prec;

	if (!isfinite(v)) {
		fputs(isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity", out);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* buf is [-]d.ddde±XX: split it into digits and an exponent. */
	{
		const char *p = buf;
		size_t n = 0;

		if (*p == '-') {
			fputc('-', out);
			p++;
		}
		for (; *p && *p != 'e'; p++)
			if (*p != '.')
				digits[n++] = *p;
		while (n > 1 && digits[n - 1] == '0')
			n--;
		digits[n] = '\0';
		exp = atoi(p + 1);
		if (exp >= -4 && exp < 16) {
			if (exp < 0) {
				fputs("0.", out);
				for (int z = 0; z < -exp - 1; z++)
					fputc('0', out);
				fputs(digits, out);
			} else if ((size_t)exp + 1 >= n) {
				fputs(digits, out);
				for (size_t z = n; z < (size_t)exp + 1; z++)
					fputc('0', out);
				fputs(".0", out);
			} else {
				fprintf(out, "%.*s.%s", exp + 1, digits, digits + exp + 1);
			}
		} else {
			fprintf(out, "%c%s%se%c%02d", digits[0], n > 1 ? "." : "", digits + 1,
				exp < 0 ? '-' : '+', abs(exp));
		}
	}
}

static void put_json(FILE *out, struct json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_null:
		fputs("null", out);
		break;
	case json_type_boolean:
		fputs(json_object_get_boolean(j) ? "true" : "false", out);
		break;
	case json_type_int:
		/* json-c's own text of an integer is exact, signed or unsigned. */
		fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), out);
		break;
	case json_type_double:
		put_double(out, json_object_get_double(j));
		break;
	case json_type_string:
		put_string(out, json_object_get_string(j), (size_t)json_object_get_string_len(j));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(j);

		fputc('[', out);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs(", ", out);
			put_json(out, json_object_array_get_idx(j, i));
		}
		fputc(']', out);
		break;
	}
	case json_type_object: {
		bool first = true;

		fputc('{', out);
		json_object_object_foreach(j, key, val) {
			if (!first)
				fputs(", ", out);
			first = false;
			put_string(out, key, strlen(key));
			fputs(": ", out);
			put_json(out, val);
		}
		fputc('}', out);
		break;
	}
	}
}

void emctl_json_print(FILE *out, struct json_object *j)
{
	put_json(out, j);
	fputc('\n', out);
}

/* ---- checked output ------------------------------------------------------------------- */

/*
 * Output streams write through a cookie that keeps the errno of the first
 * failed write: stdio keeps only a flag, and libraries flush on their own
 * (em_model_write_yaml), so the reason would otherwise be lost.
 */
struct out {
	FILE *f;
	int fd;
	int err;
};
static struct out outs[4];

static ssize_t out_write(void *cookie, const char *buf, size_t size)
{
	struct out *o = cookie;
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(o->fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!o->err)
				o->err = n < 0 ? errno : EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)size;
}

static int out_close(void *cookie)
{
	struct out *o = cookie;

	if (o->fd != STDOUT_FILENO && close(o->fd) && !o->err)
		o->err = errno;
	return 0;
}

/* A stream on @fd that keeps its first write error; NULL if none is free. */
static FILE *out_open(int fd)
{
	cookie_io_functions_t io = {.write = out_write, .close = out_close};

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (!outs[i].f) {
			outs[i] = (struct out){.fd = fd};
			outs[i].f = fopencookie(&outs[i], "w", io);
			if (outs[i].f)
				setvbuf(outs[i].f, NULL, isatty(fd) ? _IOLBF : _IOFBF, BUFSIZ);
			return outs[i].f;
		}
	return NULL;
}

static struct out *out_of(FILE *f)
{
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (outs[i].f == f)
			return &outs[i];
	return NULL;
}

void emctl_output_init(void)
{
	FILE *f = out_open(STDOUT_FILENO);

	if (f)
		stdout = f; /* else stdio's own: a failed write still shows, as EIO */
}

FILE *emctl_open_output(const char *path, const char *prefix)
{
	FILE *f;
	int fd;

	if (!strcmp(path, "-"))
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prefix, path, strerror(errno));
		return NULL;
	}
	f = out_open(fd);
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prefix, path, strerror(errno ? errno : ENOMEM));
		close(fd);
	}
	return f;
}

int emctl_close_output(FILE *f, const char *prefix, const char *what)
{
	static bool stdout_reported;
	struct out *o = out_of(f);
	int err = 0;

	if (f == stdout && stdout_reported)
		return EMCTL_EXIT_FAIL; /* said once already */
	errno = 0;
	if (fflush(f) == EOF)
		err = errno ? errno : EIO;
	if (o && o->err)
		err = o->err;
	if (ferror(f) && !err)
		err = EIO;
	if (f != stdout) {
		if (fclose(f) == EOF && !err)
			err = errno ? errno : EIO;
		if (o && o->err && !err)
			err = o->err;
		if (o)
			o->f = NULL;
	}
	if (!err)
		return EMCTL_EXIT_OK;
	fprintf(stderr, "%s: writing %s: %s\n", prefix, what, strerror(err));
	stdout_reported = stdout_reported || f == stdout;
	return EMCTL_EXIT_FAIL;
}

/* ---- domains ---------------------------------------------------------------------------- */

void emctl_pd_flags_words(uint64_t flags, char *buf, size_t size)
{
	static const char *const names[] = {"microwatts", "skip-inefficiencies", "artificial"};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 3; i++)
		if (flags & (1ull << i))
			n += (size_t)snprintf(buf + n, size > n ? size - n : 0, "%s%s", n ? "," : "",
					      names[i]);
	if (flags & ~7ull)
		snprintf(buf + n, size > n ? size - n : 0, "%s0x%llx", n ? "," : "",
			 (unsigned long long)(flags & ~7ull));
	if (!buf[0])
		snprintf(buf, size, "none");
}

void emctl_print_domain_line(FILE *out, const struct emctl_domain *d)
{
	char flags[96];

	emctl_pd_flags_words(d->flags, flags, sizeof(flags));
	fprintf(out, "perf-domain %u", d->id);
	if (d->name)
		fprintf(out, " '%s'", d->name);
	if (d->device)
		fprintf(out, ": device");
	else
		fprintf(out, ": cpus %s", d->cpus);
	if (d->capacity)
		fprintf(out, ", capacity %lu", d->capacity);
	fprintf(out, ", flags %s\n", flags);
}

const char *emctl_power_unit(const struct emctl_domain *d, unsigned long *div)
{
	*div = 1;
	if (!(d->flags & EM_PD_MICROWATTS))
		return "abstract";
	for (size_t i = 0; i < d->n_states; i++)
		if (d->states[i].power % 1000)
			return "µW";
	*div = 1000;
	return "mW";
}

/* Display columns of UTF-8 @s (µ is one). */
static size_t columns(const char *s)
{
	size_t cols = 0;

	for (const char *p = s; *p; p++)
		cols += ((unsigned char)*p & 0xc0) != 0x80;
	return cols;
}

/* A header cell of @width display columns, right-aligned. */
static void cell(FILE *out, const char *s, size_t width)
{
	size_t cols = columns(s);

	fprintf(out, "  %*s%s", (int)(width > cols ? width - cols : 0), "", s);
}

/* Decimal digits of @v. */
static size_t digits_of(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

void emctl_print_domain(FILE *out, const struct emctl_domain *d)
{
	unsigned long pdiv, fdiv = 1000;
	const char *punit = emctl_power_unit(d, &pdiv);
	char fhead[32], phead[32];
	size_t w[5];

	for (size_t i = 0; i < d->n_states; i++)
		if (d->states[i].frequency % 1000)
			fdiv = 1;
	snprintf(fhead, sizeof(fhead), "frequency (%s)", fdiv == 1 ? "kHz" : "MHz");
	snprintf(phead, sizeof(phead), "power (%s)", punit);
	w[0] = strlen("state");
	w[1] = strlen(fhead);
	w[2] = strlen("performance");
	w[3] = columns(phead);
	w[4] = strlen("cost");
	for (size_t i = 0; i < d->n_states; i++) {
		const struct emctl_state *s = &d->states[i];
		size_t v[5] = {digits_of(i), digits_of(s->frequency / fdiv),
			       digits_of(s->performance), digits_of(s->power / pdiv),
			       digits_of(s->cost)};

		for (int c = 0; c < 5; c++)
			w[c] = v[c] > w[c] ? v[c] : w[c];
	}
	emctl_print_domain_line(out, d);
	cell(out, "state", w[0]);
	cell(out, fhead, w[1]);
	cell(out, "performance", w[2]);
	cell(out, phead, w[3]);
	cell(out, "cost", w[4]);
	fputs("  flags\n", out);
	for (size_t i = 0; i < d->n_states; i++) {
		const struct emctl_state *s = &d->states[i];

		fprintf(out, "  %*zu  %*llu  %*llu  %*llu  %*llu", (int)w[0], i, (int)w[1],
			(unsigned long long)(s->frequency / fdiv), (int)w[2],
			(unsigned long long)s->performance, (int)w[3],
			(unsigned long long)(s->power / pdiv), (int)w[4],
			(unsigned long long)s->cost);
		if (s->flags & EM_PS_INEFFICIENT)
			fputs("  inefficient", out);
		if (s->flags & ~EM_PS_INEFFICIENT)
			fprintf(out, "%s0x%llx", s->flags & EM_PS_INEFFICIENT ? "," : "  ",
				(unsigned long long)(s->flags & ~(uint64_t)EM_PS_INEFFICIENT));
		fputc('\n', out);
	}
}
