#!/usr/bin/env bash
# Issue 12, point 18: the string functions a computed column can call answer as Python's str
# methods do (Pixeltable's string functions are Python's): upper()/lower() with the full Unicode
# case mapping ('ß'.upper() == 'SS', a final 'Σ' lowers to 'ς'), length in characters, substr,
# trim (every Unicode space), replace (an empty pattern too), instr, and LIKE, which compares
# case-sensitively for every letter as PostgreSQL does. The expected values are computed by Python
# on the same inputs: the table below is the test.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >inputs.json <<'JSON'
["héllo wörld çà", "straße", "ΟΔΥΣΣΕΥΣ", "ΣΑ Σ", "İstanbul", "ﬁne ﬂow", "ŉ", "ǅungla", "  \u00a0\u2003tab\t\n",
 "\u3000全角\u3000", "ÉCOLE école", "a\u0301b", "😀 emoji ⅷ", "ǰ", "ΐ", "Ωmega", "ß", "", "ÀÉÎÕÜ", "İi̇"]
JSON
# Function names are the engine's (doc/catalog.md): SQLite's instr is PostgreSQL's strpos.
find_fn=instr
[ "$TEST_BACKEND" = postgres ] && find_fn=strpos
"$PXT" create-dir t >/dev/null
"$PXT" create-table t.s --column id:Int! --column s:String \
  --computed 'up=upper(s)' --computed 'low=lower(s)' --computed 'n:Int=length(s)' \
  --computed 'sub=substr(s, 2, 3)' --computed 'tr=trim(s)' --computed 'lt=ltrim(s)' --computed 'rt=rtrim(s)' \
  --computed "rep=replace(s, 'ß', 'ss')" --computed "rep0=replace(s, '', '-')" --computed "pos:Int=$find_fn(s, 'é')" \
  --computed "has_e:Bool=s LIKE '%é%'" --computed "starts:Bool=s LIKE 'É%'" --computed "one:Bool=s LIKE '_'" --computed "big_e:Bool=s LIKE '%E%'" \
  --primary-key id >/dev/null
python3 - inputs.json >rows.json <<'PY'
import json, sys
print(json.dumps([{"id": i, "s": s} for i, s in enumerate(json.load(open(sys.argv[1])))]))
PY
"$PXT" insert t.s "$(cat rows.json)" >/dev/null
"$PXT" --json rows t.s --order-by id >got.json
python3 - inputs.json got.json <<'PY'
import json, sys
inputs = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
assert len(got) == len(inputs), (len(got), len(inputs))
bad = []
for row, s in zip(got, inputs):
    want = {
        "up": s.upper(), "low": s.lower(), "n": len(s), "sub": s[1:4], "tr": s.strip(), "lt": s.lstrip(),
        "rt": s.rstrip(), "rep": s.replace("ß", "ss"), "rep0": s.replace("", "-"), "pos": s.find("é") + 1,
        "has_e": "é" in s, "starts": s.startswith("É"), "one": len(s) == 1, "big_e": "E" in s,
    }
    for k, v in want.items():
        if row[k] != v:
            bad.append("%r: %s(...) gave %r, Python gives %r" % (s, k, row[k], v))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("%d strings x %d functions agree with Python" % (len(inputs), len(want)))
PY
pass "string functions answer as Python's str methods"
