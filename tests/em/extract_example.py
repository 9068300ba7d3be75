#!/usr/bin/env python3
"""Turn the Example section of include/emkit/em.h into a TAP test program, so that
the manual's example is compiled and run by the test suite and cannot go stale.

Usage: extract_example.py em.h out.c
"""
import sys

src, out = sys.argv[1], sys.argv[2]
lines = open(src).read().split("\n")
start = lines.index(" * Example") + 2          # skip the underline
end = lines.index(" * Readers and writers")
body = []
for line in lines[start:end]:
    if line.startswith(" * "):
        body.append(line[3:])
    elif line.rstrip() == " *":
        body.append("")
    else:
        sys.exit("extract_example: unexpected line in the example: %r" % line)

with open(out, "w") as f:
    f.write("/* Generated from include/emkit/em.h by tests/em/extract_example.py. */\n")
    f.write("#include <stdio.h>\n#include \"emkit/em.h\"\n\n")
    f.write("int main(void)\n{\n\tsetvbuf(stdout, NULL, _IONBF, 0);\n")
    f.write("\tprintf(\"1..1\\n\");\n")
    f.write("#define printf(...) fprintf(stderr, __VA_ARGS__)\n")
    f.write("\t{\n")
    for b in body:
        f.write(("\t\t" + b.replace("        ", "\t")).rstrip() + "\n")
    # The example must have registered the little cluster with the kernel's costs.
    f.write("\t\tint ok;\n")
    f.write("\t\tem_read_lock();\n")
    f.write("\t\tok = em_pd_count(reg) == 1 && id == 0 &&\n")
    f.write("\t\t     em_pd_table(em_pd_of_cpu(reg, 3))->states[1].cost == 4703 &&\n")
    f.write("\t\t     em_pd_table(em_pd_of_cpu(reg, 3))->states[0].performance == 109;\n")
    f.write("\t\tem_read_unlock();\n")
    f.write("\t\tem_registry_free(reg);\n")
    f.write("#undef printf\n")
    f.write("\t\tprintf(\"%sok 1 - the example of em.h runs\\n\", ok ? \"\" : \"not \");\n")
    f.write("\t\treturn ok ? 0 : 1;\n\t}\n}\n")
