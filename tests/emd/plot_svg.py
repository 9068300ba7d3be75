#!/usr/bin/env python3
"""Check the structure of an SVG that `emctl plot` wrote, read with
xml.etree as any SVG reader would: the title names the domain and its CPUs;
one panel per quantity (power; cost for CPU domains only); every axis has a
line, ticks and a label with its unit; the frequency axis has a tick at each
state's frequency, labelled in MHz where a label fits; gridlines; one marker
per state, the inefficient ones marked; no two labels overlap; everything
inside the canvas. Prints TAP lines numbered from --first; exits 1 on a failure.

usage: plot_svg.py SVG --title TEXT --mhz 408,600,... --inefficient N
                   --panels power[,cost] --power-unit UNIT [--all-labels]
                   [--first N]
"""
import argparse
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
p = argparse.ArgumentParser()
p.add_argument("svg")
p.add_argument("--title", required=True)
p.add_argument("--mhz", required=True)
p.add_argument("--inefficient", type=int, required=True)
p.add_argument("--panels", required=True)
p.add_argument("--power-unit", required=True)
p.add_argument("--all-labels", action="store_true")
p.add_argument("--first", type=int, default=1)
args = p.parse_args()

n = args.first - 1
failed = False


def check(cond, what, detail=""):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        failed = True
        for line in str(detail).splitlines():
            print("# " + line)


def classes(e):
    return (e.get("class") or "").split()


def find(e, cls, tag="g"):
    return [x for x in e.iter(NS + tag) if set(cls.split()) <= set(classes(x))]


def text_of(e):
    return "".join(e.itertext())


root = ET.parse(args.svg).getroot()
mhz = [float(x) for x in args.mhz.split(",")]
want_panels = args.panels.split(",")
vb = [float(x) for x in root.get("viewBox").split()]
W, H = vb[2], vb[3]

title = find(root, "title", "text")
check(root.tag == NS + "svg" and len(title) == 1 and text_of(title[0]) == args.title,
      "title: " + args.title, [text_of(t) for t in title])

panels = [x for x in root.iter(NS + "g") if "panel" in classes(x)]
check([classes(x)[1] for x in panels] == want_panels, "panels: " + args.panels,
      [x.get("class") for x in panels])

for i, panel in enumerate(panels):
    kind = classes(panel)[1]
    last = i == len(panels) - 1
    xaxis = find(panel, "axis x")
    yaxis = find(panel, "axis y")
    check(len(xaxis) == 1 and len(yaxis) == 1 and find(xaxis[0], "domain", "line")
          and find(yaxis[0], "domain", "line"), kind + ": an x and a y axis, each with its line")

    # The frequency axis: a tick at each state, at the state's place.
    xt = find(xaxis[0], "tick")
    xs = [float(t.find(NS + "line").get("x1")) for t in xt]
    ok = len(xt) == len(mhz) and xs == sorted(xs)
    if ok and len(mhz) > 1:
        # Positions linear in frequency (within rounding to 0.1 px).
        k = (xs[-1] - xs[0]) / (mhz[-1] - mhz[0])
        ok = all(abs(xs[0] + (f - mhz[0]) * k - x) < 0.2 for f, x in zip(mhz, xs))
    check(ok, "%s: %d frequency ticks, one at each state" % (kind, len(mhz)), xs)
    labels = [(t.find(NS + "text"), x) for t, x in zip(xt, xs)]
    shown = [(text_of(l), float(l.get("x")), x) for l, x in labels if l is not None]
    if last:
        ok = all(float(s) in mhz and abs(lx - x) < 0.05 for s, lx, x in shown)
        ok = ok and (not args.all_labels or len(shown) == len(mhz))
        ok = ok and shown and float(shown[-1][0]) == mhz[-1] and float(shown[0][0]) == mhz[0]
        check(ok, "%s: frequency labels in MHz under their ticks (%d of %d%s)"
              % (kind, len(shown), len(mhz), ", all" if args.all_labels else ""), shown)
    else:
        check(not shown, kind + ": the shared frequency axis is labelled once, at the bottom",
              shown)

    # The y axis: ticks at rising values, going up, and a label with a unit.
    yt = find(yaxis[0], "tick")
    vals = [float(text_of(t.find(NS + "text"))) for t in yt]
    ys = [float(t.find(NS + "line").get("y1")) for t in yt]
    steps = {round(b - a, 6) for a, b in zip(vals, vals[1:])}
    check(len(yt) >= 3 and vals == sorted(vals) and ys == sorted(ys, reverse=True)
          and len(steps) == 1, "%s: %d y ticks at even steps" % (kind, len(yt)), vals)
    ylabel = [text_of(x) for x in find(yaxis[0], "label", "text")]
    unit = ("power (%s)" % args.power_unit) if kind == "power" else "cost ("
    check(len(ylabel) == 1 and ylabel[0].startswith(unit), "%s: axis label '%s...'"
          % (kind, unit), ylabel)
    grid = [l for g in find(panel, "grid") for l in g.iter(NS + "line")]
    check(len(grid) >= len(mhz) + len(yt), "%s: gridlines (%d)" % (kind, len(grid)))

    # One marker per state; the inefficient ones marked.
    marks = [c for c in panel.iter(NS + "circle") if "state" in classes(c)]
    ineff = [c for c in marks if "inefficient" in classes(c)]
    check(len(marks) == len(mhz) and len(ineff) == args.inefficient,
          "%s: %d states, %d marked inefficient" % (kind, len(mhz), args.inefficient),
          [c.get("class") for c in marks])
    # Markers within the panel's y range, at their ticks' x.
    lo, hi = min(ys), max(ys)
    check(all(lo - 0.1 <= float(c.get("cy")) <= hi + 0.1 for c in marks)
          and [float(c.get("cx")) for c in marks] == xs,
          kind + ": markers inside the axes, above their ticks")

check(any(text_of(t) == "frequency (MHz)" for t in find(root, "label", "text")),
      "the frequency axis is labelled 'frequency (MHz)'")

# No two horizontal labels overlap (boxes from the font size, 0.62 em a
# character, as emctl lays them out; rotated labels stand apart on the left).
boxes = []
for t in root.iter(NS + "text"):
    if t.get("transform") or not text_of(t).strip():
        continue
    size = float(t.get("font-size") or root.get("font-size") or 12)
    w = len(text_of(t)) * size * 0.58
    x, y = float(t.get("x")), float(t.get("y"))
    anchor = t.get("text-anchor") or "start"
    x0 = x - (w / 2 if anchor == "middle" else w if anchor == "end" else 0)
    boxes.append((x0, y - size * 0.8, x0 + w, y + size * 0.2, text_of(t)))
legend = find(root, "legend")
skip = {text_of(t) for g in legend for t in g.iter(NS + "text")}
boxes = [b for b in boxes if b[4] not in skip]
clash = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
         if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
check(not clash, "no two labels overlap (%d labels)" % len(boxes), clash)
dots = [(float(c.get("cx")), float(c.get("cy")), float(c.get("r")))
        for c in root.iter(NS + "circle") if "state" in classes(c)]
hidden = [(b[4], d) for b in boxes for d in dots
          if b[0] < d[0] + d[2] and d[0] - d[2] < b[2] and b[1] < d[1] + d[2] and d[1] - d[2] < b[3]]
check(not hidden, "no label and state marker overlap", hidden)

# (The legend is placed by a translate(): its own coordinates are relative.)
in_legend = {id(e) for g in legend for e in g.iter()}
coords = [float(v) for e in root.iter() if id(e) not in in_legend
          for k, v in e.attrib.items() if k in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy")]
pts = [float(v) for e in root.iter(NS + "polyline")
       for v in re.split("[ ,]", e.get("points"))]
check(all(0 <= c <= max(W, H) for c in coords + pts)
      and all(0 <= float(b[0]) and b[2] <= W and b[3] <= H for b in boxes),
      "everything inside the %gx%g canvas" % (W, H))
print("# last %d" % n)
sys.exit(1 if failed else 0)
