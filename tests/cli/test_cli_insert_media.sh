#!/usr/bin/env bash
# `pxt insert` of media columns from local files: "@photo.jpg" or a plain path, copied into the
# home's media folder and checked against the column type as an upload is; the original is left
# alone; a missing or wrong file stores nothing and leaves no file behind.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
cp "$PXT_SRC/demo/photo.jpg" photo.jpg
mkdir -p sub && cp photo.jpg sub/other.jpg
printf '# Notes\n\nhello\n' >notes.md

"$PXT" create-dir m >/dev/null
"$PXT" create-table m.pics --column id:Int! --column image:Image --column doc:Document \
  --computed 'w=width(image)' --primary-key id >/dev/null
media_files() { find "$PXT_HOME/media" -type f -not -path '*/.tmp/*' 2>/dev/null | wc -l; }

out=$("$PXT" --json insert m.pics '{"id": 1, "image": "@photo.jpg", "doc": "notes.md"}')
expect_eq "$(jq -r '.[0].w' <<<"$out")" "320" "the image is read (computed width)"
stored=$(jq -r '.[0].image' <<<"$out")
expect_contains "$stored" "$PXT_HOME/media/" "stored under the home's media folder"
cmp -s "$stored" photo.jpg || fail "the stored file is not a copy of photo.jpg"
[ -f photo.jpg ] || fail "the original was moved"
doc=$(jq -r '.[0].doc' <<<"$out")
[[ $doc == *.md ]] || fail "a Markdown document keeps its kind: $doc"
pass "@path and a plain path"

abs=$("$PXT" --json insert m.pics "{\"id\": 2, \"image\": \"$TMP/sub/other.jpg\"}" | jq -r '.[0].image')
cmp -s "$abs" sub/other.jpg || fail "an absolute path"
printf '{"id": 3, "image": "@sub/other.jpg"}\n{"id": 4, "image": "photo.jpg"}\n' >rows.jsonl
expect_contains "$("$PXT" insert m.pics --file rows.jsonl)" "inserted 2 rows into 'm.pics' (" "a JSON Lines file naming files"
expect_eq "$("$PXT" count m.pics)" "4" "rows from the file"
expect_eq "$(media_files)" "5" "one copy per image value and the document"
pass "absolute paths, JSON Lines files"

before=$(media_files)
expect_status 1 "$PXT" insert m.pics '{"id": 5, "image": "@nope.jpg"}'
expect_eq "$ERR" "pxt: error: column 'image' (Image): no such file 'nope.jpg'" "a missing file"
expect_status 1 "$PXT" insert m.pics '{"id": 5, "image": "notes.md"}'
expect_contains "$ERR" "pxt: error: column 'image' (Image): 'notes.md': " "a file that is no image"
expect_status 1 "$PXT" insert m.pics '[{"id": 5, "image": "photo.jpg"}, {"id": 1, "image": "photo.jpg"}]'
expect_contains "$ERR" "already exists" "a failing insert"
expect_status 1 "$PXT" insert m.pics '{"id": 6, "image": "@sub"}'
expect_eq "$ERR" "pxt: error: column 'image' (Image): 'sub' is not a file" "a folder"
expect_eq "$(media_files)" "$before" "failed inserts leave no file"
expect_eq "$("$PXT" count m.pics)" "4" "and no row"
pass "missing, wrong and failing inserts store nothing"
