/*
 * Models: a plain description of domains (what a file, debugfs or the embedded
 * default says), registering it into a registry, describing a registry as a model,
 * writing a model as YAML, and the embedded Rockchip RK3399 default.
 *
 * The default is built from the device-tree facts themselves (OPP frequencies and
 * voltages, dynamic-power-coefficient, capacity-dmips-mhz) with the derivations the
 * kernel applies, so docs/em-model-default.md can show each number's origin and the
 * tests can pin them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void em_model_release(struct em_model *m)
{
	for (unsigned int i = 0; i < m->nr_domains; i++) {
		free(m->domains[i].states);
		free(m->domains[i].state_line);
	}
	free(m->domains);
	m->domains = NULL;
	m->nr_domains = 0;
}

static void domain_desc(const struct em_model_domain *d, struct em_pd_desc *pd)
{
	*pd = (struct em_pd_desc){
		.name = d->name, .flags = d->flags, .cpus = d->is_cpu ? &d->cpus : NULL,
		.capacity = d->capacity, .nr_states = d->nr_states, .states = d->states,
		.fixed_id = d->has_id, .id = d->id,
	};
}

int em_model_register(const struct em_model *m, struct em_registry *reg, struct em_error *err)
{
	struct em_batch *b = em_batch_new(reg);
	int ret = 0;

	if (!b)
		return em_err(err, -errno, errno == ENOMEM ? "out of memory"
							 : "registry change requested inside a read section or an observer");
	/* One batch: O(N) for N domains, and all of them or none. */
	for (unsigned int i = 0; !ret && i < m->nr_domains; i++) {
		const struct em_model_domain *d = &m->domains[i];
		struct em_pd_desc pd;
		int bad = -1;

		domain_desc(d, &pd);
		ret = em_pd_desc_validate(&pd, err, &bad);
		if (!ret)
			ret = em_batch_register(b, &pd, NULL, err);
		if (ret) {
			unsigned int line = d->line;

			if (bad >= 0 && d->state_line)
				line = d->state_line[bad];
			if (line)
				em_err_prefix(err, "%s:%u: ", m->source, line);
			else
				em_err_prefix(err, "%s: ", m->source);
		}
	}
	if (!ret)
		ret = em_batch_commit(b, err);
	em_batch_free(b);
	return ret;
}

int em_model_from_registry(struct em_model *m, const struct em_registry *reg)
{
	const struct em_pd *pd;
	unsigned int n, i = 0;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "registry");
	em_read_lock();
	n = em_pd_count(reg);
	m->domains = em_calloc(n ? n : 1, sizeof(*m->domains));
	if (!m->domains) {
		ret = -ENOMEM;
		goto out;
	}
	em_for_each_pd(pd, reg) {
		struct em_model_domain *d;
		const struct em_perf_table *t = em_pd_table(pd);

		if (i == n)
			break;
		d = &m->domains[i];
		snprintf(d->name, sizeof(d->name), "%s", em_pd_name(pd));
		d->flags = em_pd_flags(pd);
		d->is_cpu = em_pd_is_cpu(pd);
		if (d->is_cpu)
			d->cpus = *em_pd_cpus(pd);
		d->capacity = em_pd_capacity(pd);
		d->has_id = true;
		d->id = em_pd_id(pd);
		d->states = em_calloc(t->nr_states, sizeof(*d->states));
		if (!d->states) {
			ret = -ENOMEM;
			goto out;
		}
		d->nr_states = t->nr_states;
		for (unsigned int k = 0; k < t->nr_states; k++) {
			d->states[k].frequency = t->states[k].frequency;
			d->states[k].power = t->states[k].power;
			if (d->is_cpu && (d->flags & EM_PD_ARTIFICIAL))
				d->states[k].cost = t->states[k].cost;
		}
		i++;
		m->nr_domains = i;
	}
out:
	em_read_unlock();
	if (ret)
		em_model_release(m);
	return ret;
}

bool em_model_equal(const struct em_model *a, const struct em_model *b)
{
	if (a->nr_domains != b->nr_domains)
		return false;
	for (unsigned int i = 0; i < a->nr_domains; i++) {
		const struct em_model_domain *x = &a->domains[i], *y = &b->domains[i];

		if (strcmp(x->name, y->name) || x->flags != y->flags || x->is_cpu != y->is_cpu ||
		    x->capacity != y->capacity || x->nr_states != y->nr_states)
			return false;
		if (x->is_cpu && memcmp(&x->cpus, &y->cpus, sizeof(x->cpus)))
			return false;
		for (unsigned int k = 0; k < x->nr_states; k++)
			if (x->states[k].frequency != y->states[k].frequency ||
			    x->states[k].power != y->states[k].power ||
			    x->states[k].cost != y->states[k].cost)
				return false;
	}
	return true;
}

/* ---- writing ------------------------------------------------------------------- */

int em_model_write_yaml(const struct em_model *m, FILE *out)
{
	fprintf(out, "# Energy Model (emkit model file; see docs/em-model-format.md)\n");
	if (m->nr_domains == 0) {
		fprintf(out, "domains: []\n");
		return ferror(out) ? -EIO : 0;
	}
	fprintf(out, "domains:\n");
	for (unsigned int i = 0; i < m->nr_domains; i++) {
		const struct em_model_domain *d = &m->domains[i];
		const char *sep = "";

		/* Quoted: a name such as "-" or "1:2" would read back as something else;
		 * a device name may hold '"' or '\\', which the quotes need escaped. */
		fprintf(out, "  - name: \"");
		for (const char *c = d->name; *c; c++)
			fprintf(out, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
		fprintf(out, "\"\n");
		if (d->is_cpu) {
			unsigned int c;

			fprintf(out, "    cpus: [");
			em_cpumask_for_each(c, &d->cpus) {
				fprintf(out, "%s%u", sep, c);
				sep = ", ";
			}
			fprintf(out, "]\n    capacity: %u\n", d->capacity);
		}
		fprintf(out, "    flags: [");
		sep = "";
		if (d->flags & EM_PD_MICROWATTS) {
			fprintf(out, "microwatts");
			sep = ", ";
		}
		if (d->flags & EM_PD_ARTIFICIAL) {
			fprintf(out, "%sartificial", sep);
			sep = ", ";
		}
		if (d->flags & EM_PD_SKIP_INEFFICIENCIES)
			fprintf(out, "%sskip-inefficiencies", sep);
		fprintf(out, "]\n    states:\n");
		for (unsigned int k = 0; k < d->nr_states; k++) {
			const struct em_state_desc *s = &d->states[k];

			fprintf(out, "      - { frequency: %lu, power: %lu", s->frequency, s->power);
			if (s->cost)
				fprintf(out, ", cost: %lu", s->cost);
			fprintf(out, " }\n");
		}
	}
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/* ---- derivations and the default ---------------------------------------------- */

unsigned long em_opp_power_uw(unsigned int dyn_power_coeff, unsigned long millivolts,
			      unsigned long khz)
{
	/* The OPP layer works in Hz and whole MHz: P[µW] = C * mV^2 * MHz / 10^6. */
	uint64_t mhz = (uint64_t)khz * 1000 / 1000000;

	return (unsigned long)((uint64_t)dyn_power_coeff * millivolts * millivolts * mhz / 1000000);
}

unsigned int em_capacity_from_dmips(unsigned int dmips_mhz, unsigned long fmax_khz,
				    unsigned long largest_dmips_times_fmax)
{
	/* arch_topology: raw = dmips * fmax; capacity = (raw << 10) / max over CPUs. */
	if (!largest_dmips_times_fmax)
		return 0;
	return (unsigned int)(((uint64_t)dmips_mhz * fmax_khz << 10) / largest_dmips_times_fmax);
}

/*
 * Rockchip RK3399, from the mainline device tree (arch/arm64/boot/dts/rockchip/
 * rk3399.dtsi, rk3399-opp.dtsi): cluster 0 = CPUs 0-3, Cortex-A53,
 * dynamic-power-coefficient 100, capacity-dmips-mhz 485; cluster 1 = CPUs 4-5,
 * Cortex-A72, coefficient 436, capacity-dmips-mhz 1024. OPPs: frequency (Hz) and the
 * nominal opp-microvolt (the first of the <target min max> triple).
 */
struct rk3399_opp {
	unsigned long hz;
	unsigned long microvolt;
};

static const struct rk3399_opp rk3399_little_opp[] = {
	{408000000, 825000},  {600000000, 825000},   {816000000, 850000},
	{1008000000, 925000}, {1200000000, 1000000}, {1416000000, 1125000},
};

static const struct rk3399_opp rk3399_big_opp[] = {
	{408000000, 825000},   {600000000, 825000},   {816000000, 825000},
	{1008000000, 875000},  {1200000000, 950000},  {1416000000, 1025000},
	{1608000000, 1100000}, {1800000000, 1200000},
};

struct rk3399_cluster {
	const char *name;
	unsigned int first_cpu, nr_cpus;
	unsigned int dyn_power_coeff;
	unsigned int dmips_mhz;
	const struct rk3399_opp *opp;
	unsigned int nr_opp;
};

static const struct rk3399_cluster rk3399[] = {
	{"little", 0, 4, 100, 485, rk3399_little_opp,
	 sizeof(rk3399_little_opp) / sizeof(rk3399_little_opp[0])},
	{"big", 4, 2, 436, 1024, rk3399_big_opp,
	 sizeof(rk3399_big_opp) / sizeof(rk3399_big_opp[0])},
};

int em_model_default(struct em_model *m)
{
	const unsigned int n = sizeof(rk3399) / sizeof(rk3399[0]);
	unsigned long largest = 0;

	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "default (Rockchip RK3399)");
	for (unsigned int i = 0; i < n; i++) {
		unsigned long fmax = rk3399[i].opp[rk3399[i].nr_opp - 1].hz / 1000;
		unsigned long raw = rk3399[i].dmips_mhz * fmax;

		if (raw > largest)
			largest = raw;
	}
	m->domains = em_calloc(n, sizeof(*m->domains));
	if (!m->domains)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		const struct rk3399_cluster *cl = &rk3399[i];
		struct em_model_domain *d = &m->domains[i];

		m->nr_domains = i + 1;
		snprintf(d->name, sizeof(d->name), "%s", cl->name);
		d->flags = EM_PD_MICROWATTS;
		d->is_cpu = true;
		for (unsigned int c = 0; c < cl->nr_cpus; c++)
			em_cpumask_set(&d->cpus, cl->first_cpu + c);
		d->capacity = em_capacity_from_dmips(cl->dmips_mhz,
						     cl->opp[cl->nr_opp - 1].hz / 1000, largest);
		d->states = em_calloc(cl->nr_opp, sizeof(*d->states));
		if (!d->states) {
			em_model_release(m);
			return -ENOMEM;
		}
		d->nr_states = cl->nr_opp;
		for (unsigned int k = 0; k < cl->nr_opp; k++) {
			unsigned long khz = cl->opp[k].hz / 1000;

			d->states[k].frequency = khz;
			d->states[k].power = em_opp_power_uw(cl->dyn_power_coeff,
							     cl->opp[k].microvolt / 1000, khz);
		}
	}
	return 0;
}
