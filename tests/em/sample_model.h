/*
 * A small YAML model with every kind of domain: a CPU cluster
 * whose power comes from voltages, a device domain and an artificial CPU domain
 * with given costs. test_model checks its loading; test_model_mutate mutates it.
 */
#ifndef EMKIT_TEST_SAMPLE_MODEL_H
#define EMKIT_TEST_SAMPLE_MODEL_H

static const char sample_yaml[] =
	"# two clusters and a GPU\n"
	"domains:\n"
	"  - name: little\n"
	"    cpus: [0, 1, 2, 3]\n"
	"    capacity: 381\n"
	"    flags: [microwatts]\n"
	"    dynamic-power-coefficient: 100\n"
	"    states:\n"
	"      - { frequency: 408000, voltage: 825 }\n"
	"      - { frequency: 1416000, voltage: 1125 }\n"
	"  - name: gpu\n"
	"    flags: [microwatts]\n"
	"    states:\n"
	"      - frequency: 200000\n"
	"        power: 300000\n"
	"  - name: art\n"
	"    cpus: [4]\n"
	"    capacity: 1024\n"
	"    flags: [artificial, skip-inefficiencies]\n"
	"    states:\n"
	"      - { frequency: 1000000, power: 1, cost: 90 }\n"
	"      - { frequency: 2000000, power: 2, cost: 80 }\n";

#endif
