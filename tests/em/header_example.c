/*
 * The Example section of include/emkit/em.h, extracted by
 * tests/fixtures/extract_example.py, run as one TAP test: it must register
 * the little cluster with the kernel's costs.
 */
#include <stdio.h>

#include "emkit/em.h"

int main(void)
{
	int ok;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("1..1\n");
	/* What the example prints goes to stderr, beside the TAP stream. */
#define printf(...) fprintf(stderr, __VA_ARGS__)
	{
#include "em_header_example.h"
		em_read_lock();
		ok = em_pd_count(reg) == 1 && id == 0 &&
		     em_pd_table(em_pd_of_cpu(reg, 3))->states[1].cost == 4703 &&
		     em_pd_table(em_pd_of_cpu(reg, 3))->states[0].performance == 109;
		em_read_unlock();
		em_registry_free(reg);
	}
#undef printf
	printf("%sok 1 - the example of em.h runs\n", ok ? "" : "not ");
	return ok ? 0 : 1;
}
