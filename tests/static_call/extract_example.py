#!/usr/bin/env python3
"""Write the Example section of include/emkit/static_call.h, a whole program, to a
file, so that the test suite builds the manual's example exactly as printed.

Usage: extract_example.py static_call.h out.c
"""
import sys

src, out = sys.argv[1], sys.argv[2]
lines = open(src).read().split("\n")
start = lines.index(" * Example") + 2  # skip the underline
end = lines.index(" * What holds")
body = []
for line in lines[start:end]:
    if line.startswith(" *   "):
        body.append(line[5:])
    elif line.rstrip() == " *":
        body.append("")
    else:
        sys.exit("extract_example: unexpected line in the example: %r" % line)
with open(out, "w") as f:
    f.write("\n".join(body).strip() + "\n")
