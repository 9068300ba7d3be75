/*
 * emctl plot: one performance domain's states as a chart (SVG) or as numbers
 * (CSV). The chart has one panel per quantity, sharing the frequency axis —
 * power against frequency, and below it, for CPU domains, cost against
 * frequency (a device's cost is 0 by definition, so it gets no cost panel) —
 * instead of two y-scales over one another. Every axis has ticks, labels
 * with units and light gridlines; the frequency axis has a tick at each
 * state (MHz), labels staggered on two rows or left out where they would
 * overlap; inefficient states are hollow red rings in both panels; the
 * title names the domain and its CPUs. The SVG's groups carry classes
 * (panel, axis x/y, tick, state, inefficient) that the tests read.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emctl.h"
#include "emkit/dev_energymodel_user.h"
#include "emkit/em.h"

/* The canvas (px). */
#define W 800.0
#define LEFT 92.0
#define RIGHT 36.0
#define PANEL_TOP 96.0
#define POWER_H 230.0
#define GAP 44.0
#define COST_H 170.0
#define FONT 12.0
/* The width of @n characters of the 12 px sans-serif font, generously. */
#define TEXT_W(n) ((double)(n) * FONT * 0.62)

#define BLUE "#1f77b4"
#define ORANGE "#e0730b"
#define RED "#d62728"
#define GRID "#e3e3e3"
#define AXIS "#444444"

/* One panel: its box, its y range and ticks. */
struct panel {
	const char *cls;           /* "power", "cost" */
	double top, height;
	double lo, hi, step;       /* the y axis, in the values' units after div */
	const char *label;
	const char *color;
};

struct plot {
	const struct emctl_domain *d;
	char name[64];
	double fmin, fmax;         /* the x axis, kHz */
	unsigned long pdiv;
	const char *punit;
};

static double x_of(const struct plot *p, double khz)
{
	return LEFT + (khz - p->fmin) / (p->fmax - p->fmin) * (W - LEFT - RIGHT);
}

static double y_of(const struct panel *pn, double v)
{
	return pn->top + pn->height - (v - pn->lo) / (pn->hi - pn->lo) * pn->height;
}

/* A step of 1, 2, 2.5 or 5 times a power of ten giving about @n intervals
 * over @range. */
static double nice_step(double range, int n)
{
	double raw = range / n, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/* A number as a tick label: no trailing zeros. */
static void number(char *buf, size_t size, double v)
{
	char *e;

	snprintf(buf, size, "%.3f", v);
	e = buf + strlen(buf) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
	if (!strcmp(buf, "-0"))
		snprintf(buf, size, "0");
}

/* @s with &, < and > escaped for SVG text. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		default: fputc(*s, f);
		}
}

/* The value of state @i a panel plots, in the panel's units. */
static double value(const struct plot *p, const struct panel *pn, size_t i)
{
	const struct emctl_state *s = &p->d->states[i];

	if (!strcmp(pn->cls, "power"))
		return (double)s->power / (double)p->pdiv;
	return (double)s->cost;
}

/* The y range of a panel: power from 0, cost around its values. */
static void y_range(const struct plot *p, struct panel *pn)
{
	double lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < p->d->n_states; i++) {
		double v = value(p, pn, i);

		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (!strcmp(pn->cls, "power"))
		lo = 0;
	if (hi <= lo)
		hi = lo + 1;
	pn->step = nice_step(hi - lo, strcmp(pn->cls, "power") ? 4 : 5);
	pn->lo = floor(lo / pn->step) * pn->step;
	pn->hi = ceil(hi / pn->step) * pn->step;
	/* Room above the top point, so that no marker sits on the frame. */
	if (pn->hi - hi < pn->step * 0.15)
		pn->hi += pn->step;
	if (lo - pn->lo < pn->step * 0.15 && pn->lo > 0)
		pn->lo -= pn->step;
}

/* A frequency (kHz) as a tick label in MHz. */
static void mhz(char *buf, size_t size, uint64_t khz)
{
	number(buf, size, (double)khz / 1000.0);
}

/* The frequency axis under @pn: a tick and a gridline at each state; with
 * @labels, the frequencies, on two rows where one would crowd them, and
 * left out where two would. */
static void x_axis(FILE *f, const struct plot *p, const struct panel *pn, bool labels)
{
	double bottom = pn->top + pn->height, row_end[2] = {-1e9, -1e9};
	size_t n = p->d->n_states;
	int *row = calloc(n ? n : 1, sizeof(*row));

	/* Rows: 0 or 1, -1 left out. Greedy from the left; the top state's label
	 * is kept, displacing a neighbour if need be. */
	for (size_t i = 0; row && i < n; i++) {
		char t[32];
		double x, half;

		mhz(t, sizeof(t), p->d->states[i].frequency);
		x = x_of(p, (double)p->d->states[i].frequency);
		half = TEXT_W(strlen(t)) / 2 + 3;
		row[i] = -1;
		for (int r = 0; r < 2; r++)
			if (x - half >= row_end[r]) {
				row[i] = r;
				row_end[r] = x + half;
				break;
			}
	}
	if (row && n > 1 && row[n - 1] < 0) {
		/* Free row 0 for the last label by dropping its left neighbours there. */
		char t[32];
		double x = x_of(p, (double)p->d->states[n - 1].frequency), half;

		mhz(t, sizeof(t), p->d->states[n - 1].frequency);
		half = TEXT_W(strlen(t)) / 2 + 3;
		for (size_t j = n - 1; j-- > 0;) {
			char u[32];

			if (row[j] != 0)
				continue;
			mhz(u, sizeof(u), p->d->states[j].frequency);
			if (x_of(p, (double)p->d->states[j].frequency) + TEXT_W(strlen(u)) / 2 + 3 <=
			    x - half)
				break;
			row[j] = -1;
		}
		row[n - 1] = 0;
	}
	fprintf(f, "<g class=\"axis x\" stroke=\"%s\">\n", AXIS);
	fprintf(f, "<line class=\"domain\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
		bottom, W - RIGHT, bottom);
	for (size_t i = 0; i < n; i++) {
		double x = x_of(p, (double)p->d->states[i].frequency);
		char t[32];

		fprintf(f, "<g class=\"tick\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
			x, bottom, x, bottom + 5);
		if (labels && row && row[i] >= 0) {
			mhz(t, sizeof(t), p->d->states[i].frequency);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" stroke=\"none\" fill=\"#222\" "
				   "text-anchor=\"middle\">%s</text>",
				x, bottom + 18 + 14 * row[i], t);
		}
		fprintf(f, "</g>\n");
	}
	fprintf(f, "</g>\n");
	free(row);
}

/* The y axis of @pn: ticks, labels, gridlines and its title. */
static void y_axis(FILE *f, const struct panel *pn)
{
	double bottom = pn->top + pn->height, mid = pn->top + pn->height / 2;

	fprintf(f, "<g class=\"grid\" stroke=\"%s\">\n", GRID);
	for (double v = pn->lo; v <= pn->hi + pn->step / 1e6; v += pn->step)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
			y_of(pn, v), W - RIGHT, y_of(pn, v));
	fprintf(f, "</g>\n<g class=\"axis y\" stroke=\"%s\">\n", AXIS);
	fprintf(f, "<line class=\"domain\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
		pn->top, LEFT, bottom);
	for (double v = pn->lo; v <= pn->hi + pn->step / 1e6; v += pn->step) {
		char t[32];

		number(t, sizeof(t), v);
		fprintf(f, "<g class=\"tick\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\" stroke=\"none\" fill=\"#222\" "
			   "text-anchor=\"end\">%s</text></g>\n",
			LEFT - 5, y_of(pn, v), LEFT, y_of(pn, v), LEFT - 8, y_of(pn, v) + 4, t);
	}
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" stroke=\"none\" fill=\"%s\" "
		   "text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">",
		22.0, mid, pn->color, 22.0, mid);
	put_text(f, pn->label);
	fprintf(f, "</text>\n</g>\n");
}

/* The curve and the states of @pn. */
static void curve(FILE *f, const struct plot *p, const struct panel *pn)
{
	fprintf(f, "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
		   "points=\"", pn->color);
	for (size_t i = 0; i < p->d->n_states; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", x_of(p, (double)p->d->states[i].frequency),
			y_of(pn, value(p, pn, i)));
	fprintf(f, "\"/>\n");
	for (size_t i = 0; i < p->d->n_states; i++) {
		bool ineff = p->d->states[i].flags & EM_PS_INEFFICIENT;
		double x = x_of(p, (double)p->d->states[i].frequency), y = y_of(pn, value(p, pn, i));
		char v[32], fr[32];

		number(v, sizeof(v), value(p, pn, i));
		mhz(fr, sizeof(fr), p->d->states[i].frequency);
		if (ineff)
			fprintf(f, "<circle class=\"state inefficient\" cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" "
				   "fill=\"white\" stroke=\"%s\" stroke-width=\"2.5\">", x, y, RED);
		else
			fprintf(f, "<circle class=\"state\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\">",
				x, y, pn->color);
		fprintf(f, "<title>state %zu: %s MHz, %s %s%s</title></circle>\n", i, fr, pn->cls, v,
			ineff ? " (inefficient)" : "");
	}
}

static void draw_panel(FILE *f, const struct plot *p, const struct panel *pn, bool labels)
{
	fprintf(f, "<g class=\"panel %s\">\n", pn->cls);
	/* Light vertical gridlines at the states, under everything. */
	fprintf(f, "<g class=\"grid\" stroke=\"%s\" stroke-dasharray=\"2 3\">\n", GRID);
	for (size_t i = 0; i < p->d->n_states; i++) {
		double x = x_of(p, (double)p->d->states[i].frequency);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, pn->top, x,
			pn->top + pn->height);
	}
	fprintf(f, "</g>\n");
	y_axis(f, pn);
	x_axis(f, p, pn, labels);
	curve(f, p, pn);
	fprintf(f, "</g>\n");
}

/* Write the SVG of domain @d (states sorted by frequency, at least one). */
static void write_svg(FILE *f, const struct emctl_domain *d)
{
	struct plot p = {.d = d};
	struct panel power = {.cls = "power", .top = PANEL_TOP, .height = POWER_H, .color = BLUE};
	struct panel cost = {.cls = "cost", .top = PANEL_TOP + POWER_H + GAP, .height = COST_H,
			     .color = ORANGE};
	char plabel[64], clabel[64], flags[96], nineff[24];
	const char *cpus_word = d->device ? "a device" : strpbrk(d->cpus, ",-") ? "CPUs " : "CPU ";
	const struct panel *last;
	double pad, H, pmax = 0;
	size_t ineff = 0;

	p.punit = emctl_power_unit(d, &p.pdiv);
	/* Power in mW once it reaches 10 mW, µW below; "abstract" stays. */
	for (size_t i = 0; i < d->n_states; i++)
		pmax = (double)d->states[i].power > pmax ? (double)d->states[i].power : pmax;
	if (d->flags & EM_PD_MICROWATTS) {
		p.pdiv = pmax >= 10000 ? 1000 : 1;
		p.punit = p.pdiv == 1000 ? "mW" : "µW";
	}
	snprintf(plabel, sizeof(plabel), "power (%s)", p.punit);
	power.label = plabel;
	if (d->flags & EM_PD_ARTIFICIAL)
		snprintf(clabel, sizeof(clabel), "cost (the provider's, abstract)");
	else
		snprintf(clabel, sizeof(clabel), "cost (10 × %s / performance)",
			 d->flags & EM_PD_MICROWATTS ? "µW" : "power");
	cost.label = clabel;
	p.fmin = (double)d->states[0].frequency;
	p.fmax = (double)d->states[d->n_states - 1].frequency;
	pad = p.fmax > p.fmin ? (p.fmax - p.fmin) * 0.05 : p.fmin * 0.05 + 1;
	p.fmin -= pad;
	p.fmax += pad;
	y_range(&p, &power);
	y_range(&p, &cost);
	last = d->device ? &power : &cost;
	H = last->top + last->height + 72;
	for (size_t i = 0; i < d->n_states; i++)
		ineff += !!(d->states[i].flags & EM_PS_INEFFICIENT);
	if (d->device)
		snprintf(p.name, sizeof(p.name), "pd%u", d->id);
	else
		snprintf(p.name, sizeof(p.name), "cpu%.*s", (int)strspn(d->cpus, "0123456789"),
			 d->cpus);
	emctl_pd_flags_words(d->flags, flags, sizeof(flags));

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Verdana, sans-serif\" "
		   "font-size=\"%.0f\">\n",
		   W, H, W, H, FONT);
	fprintf(f, "<title>perf-domain %u (%s), %s%s: power%s against frequency</title>\n", d->id,
		p.name, cpus_word, d->device ? "" : d->cpus, d->device ? "" : " and cost");
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<g class=\"heading\">\n<text class=\"title\" x=\"%.1f\" y=\"30\" "
		   "font-size=\"17\" font-weight=\"bold\">perf-domain %u (%s): %s%s</text>\n",
		LEFT, d->id, p.name, cpus_word, d->device ? "" : d->cpus);
	snprintf(nineff, sizeof(nineff), "%zu", ineff);
	fprintf(f, "<text class=\"subtitle\" x=\"%.1f\" y=\"52\" fill=\"#555\">%zu performance "
		   "state%s, %s inefficient; flags %s</text>\n",
		LEFT, d->n_states, d->n_states == 1 ? "" : "s", ineff ? nineff : "none", flags);
	/* The legend, on a line of its own above the panels. */
	fprintf(f, "<g class=\"legend\" transform=\"translate(%.1f 74)\">"
		   "<circle cx=\"5\" cy=\"-4\" r=\"4\" fill=\"%s\"/>"
		   "<text x=\"14\" y=\"0\">power</text>",
		LEFT, BLUE);
	if (!d->device)
		fprintf(f, "<circle cx=\"79\" cy=\"-4\" r=\"4\" fill=\"%s\"/>"
			   "<text x=\"88\" y=\"0\">cost</text>", ORANGE);
	if (ineff)
		fprintf(f, "<circle cx=\"%d\" cy=\"-4\" r=\"5\" fill=\"white\" stroke=\"%s\" "
			   "stroke-width=\"2.5\"/><text x=\"%d\" y=\"0\">inefficient state: a "
			   "faster state costs no more</text>",
			d->device ? 79 : 145, RED, d->device ? 89 : 155);
	fprintf(f, "</g>\n</g>\n");
	draw_panel(f, &p, &power, d->device);
	if (!d->device)
		draw_panel(f, &p, &cost, true);
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#222\">"
		   "frequency (MHz)</text>\n",
		LEFT + (W - LEFT - RIGHT) / 2, H - 10);
	fprintf(f, "</svg>\n");
}

/* Write the states as CSV: the wire's values and units. */
static void write_csv(FILE *f, const struct emctl_domain *d)
{
	fprintf(f, "state,frequency_khz,performance,%s,cost,inefficient\n",
		d->flags & EM_PD_MICROWATTS ? "power_uw" : "power");
	for (size_t i = 0; i < d->n_states; i++) {
		const struct emctl_state *s = &d->states[i];

		fprintf(f, "%zu,%llu,%llu,%llu,%llu,%d\n", i, (unsigned long long)s->frequency,
			(unsigned long long)s->performance, (unsigned long long)s->power,
			(unsigned long long)s->cost, !!(s->flags & EM_PS_INEFFICIENT));
	}
}

/* Write @d with @fn to @path ('-': stdout). */
static int write_to(const struct emctl_args *a, const char *path, const struct emctl_domain *d,
		    void (*fn)(FILE *, const struct emctl_domain *))
{
	FILE *f = emctl_open_output(path, a->name);

	if (!f)
		return EMCTL_EXIT_FAIL;
	fn(f, d);
	return emctl_close_output(f, a->name, strcmp(path, "-") ? path : "the output");
}

int emctl_cmd_plot(struct emctl_args *a)
{
	struct emdev_perf_domain *pd = NULL;
	struct emdev_perf_table *t = NULL;
	struct emnl_error e = {0};
	struct emctl_domain d = {0};
	struct emctl_peer p;
	uint32_t id;
	int rc;

	if (!a->svg && !a->csv)
		return emctl_usage_error(a, "give --svg FILE or --csv FILE");
	if (a->svg && a->csv && !strcmp(a->svg, "-") && !strcmp(a->csv, "-"))
		return emctl_usage_error(a, "--svg and --csv cannot both write to standard output");
	rc = emctl_parse_id(a, &id);
	if (rc || (rc = emctl_peer_connect(a, &p)))
		return rc;
	if (emdev_get_perf_domain(p.dev, id, &pd, &e) || !pd) {
		rc = emctl_peer_failed(a, &p, "get-perf-domains", &e, id);
		goto out;
	}
	if (emdev_get_perf_table(p.dev, id, &t, &e) || !t) {
		rc = emctl_peer_failed(a, &p, "get-perf-table", &e, id);
		goto out;
	}
	if (t->n_states == 0) {
		fprintf(stderr, "%s: perf-domain %u has no states\n", a->name, id);
		rc = EMCTL_EXIT_FAIL;
		goto out;
	}
	emctl_domain_of(pd, &d);
	if (emctl_states_of(t, &d)) {
		fprintf(stderr, "%s: out of memory\n", a->name);
		rc = EMCTL_EXIT_FAIL;
		goto out;
	}
	if (a->svg)
		rc = write_to(a, a->svg, &d, write_svg);
	if (!rc && a->csv)
		rc = write_to(a, a->csv, &d, write_csv);
out:
	free(d.states);
	emdev_perf_domain_free(pd);
	emdev_perf_table_free(t);
	emctl_peer_close(&p);
	return rc;
}
