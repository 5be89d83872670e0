#!/usr/bin/env bash
# mloop monitor's HTML report as a browser shows it: written beside the JSON report and to
# --report FILE, rendered by headless Chromium (Debian's chromium), and the rendered DOM checked
# against the JSON report: the verdict, the drift table, a histogram with two series per feature,
# the history of earlier reports; nothing that would load from the network; names from the data
# escaped, never markup. A screenshot proves it paints.
. "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    if [ "${CI:-}" = true ]; then
        echo "not ok - no chromium, and CI=true does not allow skipping" >&2
        exit 1
    fi
    echo "# skipped: no chromium (scripts/test installs it)"
    exit 77
fi

# chromium FLAGS... URL: headless, its profile in the scratch directory, no network at all (every
# host resolves to nothing), its own chatter on stderr kept in chromium.log. Seconds taken are
# appended to $SCRATCH/chromium.times.
chromium() {
    local start rc
    start=$(now_ms)
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --no-default-browser-check --user-data-dir="$SCRATCH/chromium-profile" \
        --host-resolver-rules="MAP * ~NOTFOUND" "$@" 2>>"$SCRATCH/chromium.log"
    rc=$?
    echo "$(( $(now_ms) - start ))" >>"$SCRATCH/chromium.times"
    return $rc
}

P="$SCRATCH/project"
mkdir -p "$P"
(
    cd "$P" && copy_example . &&
    # A drifting report must not start a training here.
    sed -i "s/on_alert: retrain/on_alert: none/" mloop.yaml &&
    mloop -q train >/dev/null
) || { echo "not ok - could not set up the project" >&2; exit 1; }

test_expect_success 'every report writes N.html beside N.json; --report FILE writes it there too' '
    cd "$P" &&
    mloop -q monitor --current data/eval.csv >/dev/null;
    run mloop monitor --current data/production.csv &&
    expect_code 1 &&
    expect_stdout_contains "report: .mloop/reports/2.html (JSON: .mloop/reports/2.json)" &&
    [ -s .mloop/reports/1.html ] && [ -s .mloop/reports/2.html ] && [ ! -e .mloop/reports/2.html.tmp ] &&
    mkdir -p out &&
    run mloop --json monitor --current data/production.csv --report out/report.html &&
    expect_code 1 &&
    expect_json "j[\"report\"] == 3 and j[\"html\"].endswith(\"/.mloop/reports/3.html\") and j[\"path\"].endswith(\"/.mloop/reports/3.json\")" &&
    /usr/bin/python3 -c "import json, sys; a = json.load(open(\".mloop/reports/3.json\")); b = json.loads(sys.argv[1]); assert a == b, (a, b)" "$OUT" &&
    cmp .mloop/reports/3.html out/report.html &&
    case "$(sql "select json_extract(report, \"\$.html\") from monitor_reports where id = 3")" in */.mloop/reports/3.html) ;; *) false ;; esac &&
    (cd out && run mloop -C .. monitor --current data/production.csv --report here.html && expect_code 1 &&
        expect_stdout_contains "report: .mloop/reports/4.html (JSON: .mloop/reports/4.json), written to here.html") &&
    [ -s here.html ] && [ ! -e out/here.html ] && rm here.html &&
    run mloop monitor --current data/production.csv --report nowhere/report.html &&
    expect_code 2 &&
    expect_stderr_contains "--report '"'"'nowhere/report.html'"'"': no directory" &&
    [ "$(sql "select count(*) from monitor_reports")" = 4 ]
'

test_expect_success 'the JSON report carries each feature'"'"'s histogram, its counts those the test used' '
    cd "$P" &&
    /usr/bin/python3 - <<'"'"'PY'"'"'
import json
j = json.load(open(".mloop/reports/3.json"))
for f in j["features"]:
    h = f["histogram"]
    assert len(h["reference"]) == len(h["current"]) >= 1, f
    assert sum(h["reference"]) == f["reference_values"] and sum(h["current"]) == f["current_values"], f
    if f["kind"] == "numeric":
        assert len(h["edges"]) == len(h["reference"]) + 1 <= 31, f
        assert h["edges"] == sorted(h["edges"]), f
    else:
        assert h["categories"] and len(h["categories"]) == len(h["reference"]) <= 21, f
by = {f["column"]: f["histogram"] for f in j["features"]}
assert by["support_calls"]["edges"][0] % 1 == 0.5, by["support_calls"]  # whole numbers, one bin each
assert set(by["plan"]["categories"]) == {"basic", "pro", "enterprise"}, by["plan"]
PY
'

test_expect_success 'headless Chromium renders it offline: verdict, drift table, two series per feature, history' '
    cd "$P" &&
    chromium --dump-dom "file://$P/out/report.html" >dom.html &&
    [ -s dom.html ] &&
    /usr/bin/python3 - "$P/.mloop/reports/3.json" dom.html <<'"'"'PY'"'"'
import json, re, sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "wbr"}

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []
    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)
    def classes(self):
        return set((self.attrs.get("class") or "").split())
    def all(self, tag=None, cls=None, **attrs):
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.classes()) and \
                        all(c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                    out.append(c)
                out.extend(c.all(tag, cls, **attrs))
        return out
    def one(self, *a, **k):
        found = self.all(*a, **k)
        assert len(found) == 1, (a, k, len(found))
        return found[0]

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = self.cur = Node("#root", {}, None)
    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n
    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))
    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent
    def handle_data(self, data):
        self.cur.children.append(data)

report = json.load(open(sys.argv[1]))
d = Dom()
d.feed(open(sys.argv[2]).read())
dom = d.root

assert dom.one("h1").text().startswith("mloop monitor/3: "), dom.one("h1").text()
verdict = dom.one(id="verdict")
assert "drift" in verdict.classes(), verdict.attrs
assert "Dataset drift: yes" in verdict.text(), verdict.text()
assert "5 of 7 features drifted" in verdict.text(), verdict.text()
assert [li.text() for li in dom.one(id="alerts").all("li")] == report["alerts"]

table = dom.one("table", id="drift-table")
rows = table.all("tr", cls="feature-row")
assert [r.attrs["data-column"] for r in rows] == [f["column"] for f in report["features"]], rows
assert len(rows) == 7
drifted = {f["column"] for f in report["features"] if f["drifted"]}
assert {r.attrs["data-column"] for r in rows if r.all("td")[-1].text() == "DRIFT"} == drifted
assert {r.attrs["data-column"] for r in rows if r.attrs["data-drifted"] == "true"} == drifted
for r, f in zip(rows, report["features"]):
    cells = [c.text() for c in r.all("td")]
    assert cells[0] == f["column"] and cells[1] == f["kind"], cells
    assert cells[2].split(" ")[0] == f["method"], (cells, f["method"])

cards = dom.one(id="histograms").all("div", cls="feature")
assert [c.attrs["data-column"] for c in cards] == [f["column"] for f in report["features"]]
for card, f in zip(cards, report["features"]):
    svg = card.one("svg", cls="histogram")
    bins = len(f["histogram"]["reference"])
    assert svg.attrs["data-bins"] == str(bins), (f["column"], svg.attrs)
    series = svg.all("g", cls="series")
    assert [sorted(s.classes()) for s in series] == [["reference", "series"], ["current", "series"]], f["column"]
    for s in series:
        assert len(s.all("rect", cls="bar")) == bins, (f["column"], s.attrs)
        assert s.attrs["fill"] != series[0].attrs["fill"] or s is series[0]
    legend = svg.one("g", cls="legend").text()
    assert "reference (%d values)" % f["reference_values"] in legend, legend
    assert "current (%d values)" % f["current_values"] in legend, legend
    assert "share of values" in svg.text(), f["column"]
    assert ("is-drifted" in card.classes()) == bool(f["drifted"]), f["column"]

history = dom.one(id="history")
hrows = history.all("tr", cls="history-row")
assert len(hrows) == 3, len(hrows)  # reports 1, 2 and 3 of no environment
assert [r.attrs["data-report"] for r in hrows] == ["3", "2", "1"], [r.attrs for r in hrows]
assert "current" in hrows[0].classes() and "(this report)" in hrows[0].text()
points = history.one("svg", id="history-drift").all("circle", cls="point")
assert [p.attrs["data-report"] for p in points] == ["1", "2", "3"], points
assert ["drift" in p.classes() for p in points] == [False, True, True]
assert not history.all("svg", id="history-performance")  # production.csv has no scores

# Nothing to fetch: no script, stylesheet link, image, frame or object, and no URL anywhere.
for tag in ("script", "link", "img", "iframe", "object", "embed", "base"):
    assert not dom.all(tag), tag
def walk(n):
    yield n
    for c in n.children:
        if isinstance(c, Node):
            yield from walk(c)
for n in walk(dom):
    for k, v in n.attrs.items():
        assert not (k in ("src", "href", "xlink:href", "action", "srcset", "poster", "data") and v), (n.tag, k, v)
        assert not re.search(r"(?i)\b(https?|ftp)://", v or ""), (n.tag, k, v)
    assert n.tag != "style" or "url(" not in n.text() and "@import" not in n.text()
PY
'

test_expect_success 'a screenshot of it is a picture, not a blank page' '
    cd "$P" &&
    chromium --screenshot="$P/shot.png" --window-size=1280,2400 --hide-scrollbars "file://$P/out/report.html" >/dev/null &&
    /usr/bin/python3 - shot.png <<'"'"'PY'"'"'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 2400), (w, h)
assert len(data) > 40 * 1024, len(data)
# Decode the pixels and count colours: a blank or error page has a handful, a page of text and
# overlaid histograms hundreds. Look for the two series colours too.
chunks, i = [], 8
while i < len(data):
    n, kind = struct.unpack(">I4s", data[i:i + 8])
    if kind == b"IDAT":
        chunks.append(data[i + 8:i + 8 + n])
    if kind == b"IHDR":
        depth, ctype = data[i + 16], data[i + 17]
    i += 12 + n
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(b"".join(chunks))
stride = w * bpp
prev = bytearray(stride)
colours = set()
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 2 == 0:
        for x in range(0, stride, bpp * 2):
            colours.add(bytes(line[x:x + 3]))
    prev = line
assert len(colours) > 100, len(colours)
def near(rgb):
    return any(all(abs(c[k] - rgb[k]) <= 40 for k in range(3)) for c in colours)
# The two series, at 55% over white: #4c78a8 and #f58518.
assert near((0x9c, 0xb6, 0xd1)), "no reference bars"
assert near((0xf8, 0xbd, 0x85)), "no current bars"
assert near((0xfd, 0xec, 0xea)), "no drift verdict"
PY
'

test_expect_success 'names from the data are escaped: a <script> column is text in the page, never markup' '
    mkdir hostile && cd hostile &&
    printf "mloop: 1\nproject: hostile\nmonitor:\n  reference: ref.csv\n  current: cur.csv\n" >mloop.yaml &&
    /usr/bin/python3 - <<'"'"'PY'"'"'
import csv, random
random.seed(7)
cols = ["<script>document.title=\"pwned\"</script>", "a&b \"quoted\" <i>x</i>", "plan"]
for name, shift in (("ref.csv", 0), ("cur.csv", 30)):
    with open(name, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in range(300):
            w.writerow([random.gauss(50 + shift, 10), random.randint(0, 5) + shift // 10,
                        random.choice(["<b>bold</b>", "x & y", "\"q\""])])
PY
    run mloop --json monitor --report page.html &&
    expect_code 1 &&
    expect_json "[f[\"column\"] for f in j[\"features\"]][0] == \"<script>document.title=\\\"pwned\\\"</script>\"" &&
    ! grep -q "<script" page.html &&
    ! grep -q "<b>bold" page.html &&
    ! grep -q "<i>x" page.html &&
    grep -q "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" page.html &&
    chromium --dump-dom "file://$PWD/page.html" >dom.html &&
    /usr/bin/python3 - dom.html <<'"'"'PY'"'"'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.title, self.in_title, self.cells, self.in_td = [], None, False, [], False
        self.columns = []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.in_title = tag == "title" and self.title is None  # the title of the document, not of an SVG
        if self.in_title:
            self.title = ""
        self.in_td = tag == "td"
        a = dict(attrs)
        if "feature-row" in (a.get("class") or ""):
            self.columns.append(a["data-column"])
    def handle_endtag(self, tag):
        self.in_title = self.in_td = False
    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.in_td:
            self.cells.append(data)
p = P()
p.feed(open(sys.argv[1]).read())
assert "script" not in p.tags and "i" not in p.tags and "b" not in p.tags, set(p.tags)
assert p.title == "mloop monitor/1: hostile", p.title  # the script did not run
want = ["<script>document.title=\"pwned\"</script>", "a&b \"quoted\" <i>x</i>", "plan"]
assert p.columns == want, p.columns
assert want[0] in p.cells and want[1] in p.cells, p.cells[:12]
PY
'

if [ -f "$SCRATCH/chromium.times" ]; then
    echo "# chromium took $(tr '\n' ' ' <"$SCRATCH/chromium.times")ms per page"
fi
test_done
