#!/usr/bin/env bash
# The installed library as a user meets it: `meson install` of BUILD_DIR into a temporary folder,
# then, from outside the tree and with nothing but `pkg-config dagrad`:
#   - docs/examples/score/score.cpp builds against the installed headers and libdagrad.so, loads a
#     model trained by the installed `dagrad fit`, and prints values checked by hand;
#   - docs/examples/plugin/softplus.cpp builds as a plugin, passes `dagrad gradcheck` loaded with
#     --plugin and with DAGRAD_PLUGINS, and is used in a model file as an MLP activation.
# Usage: check_installed_library.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAILED: $*"; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >/dev/null
pc=$(find "$tmp/root" -name dagrad.pc | head -n 1)
[[ -n "$pc" ]] || fail "meson install wrote no dagrad.pc"
export PKG_CONFIG_PATH="$(dirname "$pc")"
prefix="$tmp/root$(pkg-config --variable=prefix dagrad)"
PC="pkg-config --define-variable=prefix=$prefix"
libdir=$($PC --variable=libdir dagrad)
[[ -f "$libdir/libdagrad.so" ]] || fail "no libdagrad.so in $libdir"
[[ -f "$($PC --variable=includedir dagrad)/dagrad/models/model.hpp" ]] || fail "headers not installed"
dagrad="$prefix/bin/dagrad"
[[ -x "$dagrad" ]] || fail "no installed dagrad program"

work="$tmp/work"  # outside the source tree: only the installed files are reachable
mkdir -p "$work"
cd "$work"
echo "building docs/examples/score against the installed library"
c++ -std=c++20 -O1 "$src/docs/examples/score/score.cpp" $($PC --cflags --libs dagrad) -o score
echo "building docs/examples/plugin as a plugin"
c++ -std=c++20 -O2 -fPIC -shared "$src/docs/examples/plugin/softplus.cpp" $($PC --cflags dagrad) -o libsoftplus.so

# A small model: `scaled` is the Normalization of x (mean and variance adapted on the data, so its
# values are known by hand); `score` a trained prediction of `liked` from user and item.
printf 'user,item,x,liked\n' > likes.csv
for i in 1 2 3 4 5 6 7 8; do
  printf 'alice,apples,1,1\nalice,beans,2,0\nbob,beans,3,1\nbob,apples,4,0\n' >> likes.csv
done
cat > train.yaml <<'YAML'
data: {source: csv, interactions: likes.csv, columns: {user: string, item: string, x: float, liked: int}, split: {seed: 1, test: 0.25}}
fit: {seed: 1, epochs: 60, batch_size: 8, optimizer: {type: Adam, learning_rate: 0.05}, progress: none}
YAML
cat > model.yaml <<'YAML'
name: likes
inputs: {user: string, item: string, x: float}
layers:
  user_vec: {type: Embedding, input: user_index, output_dim: 4}
  user_index: {type: StringLookup, input: user}
  item_index: {type: StringLookup, input: item}
  item_vec: {type: Embedding, input: item_index, output_dim: 4}
  scaled: {type: Normalization, input: x}
  score: {op: Dot, inputs: [user_vec, item_vec]}
task: {type: Ranking, prediction: score, label: liked, loss: binary_crossentropy}
YAML
"$dagrad" fit model.yaml --train train.yaml --out out >/dev/null || fail "installed dagrad fit"

# x over the adapted data is 1, 2, 3, 4 equally often: mean 2.5, variance 1.25: (x - 2.5) / 1.118034.
got=$(printf 'x\n5\n2.5\n0\n' | LD_LIBRARY_PATH="$libdir" ./score out/model.dagrad scaled | tr '\n' ' ')
[[ "$got" == "2.23607 0 -2.23607 " ]] || fail "score scaled: got '$got'"
scores=$(printf 'user,item\nalice,apples\nalice,beans\nbob,beans\nbob,apples\n' |
         LD_LIBRARY_PATH="$libdir" ./score out/model.dagrad score | tr '\n' ' ')
read -r a_apples a_beans b_beans b_apples <<< "$scores"
python3 -c "import sys; a,b,c,d = map(float, sys.argv[1:]); sys.exit(0 if a > b and c > d else 1)" \
  "$a_apples" "$a_beans" "$b_beans" "$b_apples" || fail "score: liked pairs do not outscore the others: $scores"
set +e
err=$(printf 'user,colour\nalice,red\n' | LD_LIBRARY_PATH="$libdir" ./score out/model.dagrad score 2>&1); rc=$?
set -e
[[ $rc -eq 2 && "$err" == *"column 'colour' is not an input of the model"* ]] || fail "score bad column: rc $rc: $err"
echo "score: ok ($scores)"

out=$("$dagrad" gradcheck -v Softplus --plugin ./libsoftplus.so) || fail "gradcheck with --plugin: $out"
[[ "$out" == *"ok   Softplus sample 'matrix'"* && "$out" == *"2 passed, 0 failed"* ]] || fail "gradcheck with --plugin: $out"
out=$(DAGRAD_PLUGINS="$work/libsoftplus.so" "$dagrad" gradcheck Softplus) || fail "gradcheck with DAGRAD_PLUGINS: $out"
[[ "$out" == *"2 passed, 0 failed"* ]] || fail "gradcheck with DAGRAD_PLUGINS: $out"
echo "plugin gradcheck: ok"

# The plugin's op as an MLP activation in a model file.
sed 's/  score: {op: Dot, inputs: \[user_vec, item_vec\]}/  both: {type: Concat, inputs: [user_vec, item_vec]}\n  score: {type: MLP, input: both, units: [8, 1], activation: Softplus}/' model.yaml > softplus.yaml
grep -q 'activation: Softplus' softplus.yaml || fail "sed did not write softplus.yaml"
"$dagrad" --plugin ./libsoftplus.so fit softplus.yaml --train train.yaml --out out2 >/dev/null || fail "fit with the plugin's activation"
"$dagrad" describe softplus.yaml --train train.yaml --plugin ./libsoftplus.so | grep -q 'Softplus' || fail "describe does not show Softplus"
set +e
err=$("$dagrad" describe softplus.yaml --train train.yaml 2>&1); rc=$?
err2=$("$dagrad" --plugin ./missing.so list 2>&1); rc2=$?
set -e
[[ $rc -eq 2 && "$err" == *"softplus.yaml:"*"Softplus"* ]] || fail "without the plugin: rc $rc: $err"
[[ $rc2 -eq 2 && "$err2" == *"plugin ./missing.so: no such file"* ]] || fail "missing plugin: rc $rc2: $err2"
echo "plugin in a model file: ok"

# A plugin compiled against headers of another ABI version (a copy of the installed headers with
# DAGRAD_ABI_VERSION raised) is refused when loaded, naming it, before any of its code is called.
includedir=$($PC --variable=includedir dagrad)
cp -r "$includedir/dagrad" stale_headers
sed -i 's/^#define DAGRAD_ABI_VERSION \([0-9]*\)$/#define DAGRAD_ABI_VERSION 9\1/' stale_headers/graph/registry.hpp
grep -q '^#define DAGRAD_ABI_VERSION 9' stale_headers/graph/registry.hpp || fail "sed did not raise DAGRAD_ABI_VERSION"
mkdir -p stale_include && mv stale_headers stale_include/dagrad
c++ -std=c++20 -O2 -fPIC -shared "$src/docs/examples/plugin/softplus.cpp" \
  $($PC --cflags dagrad | sed "s|-I$includedir/dagrad|-I$work/stale_include/dagrad|g; s|-I$includedir |-I$work/stale_include |g") \
  -o libsoftplus_stale.so
set +e
err=$("$dagrad" gradcheck Softplus --plugin ./libsoftplus_stale.so 2>&1); rc=$?
set -e
[[ $rc -eq 2 && "$err" == *"plugin ./libsoftplus_stale.so"*"op 'Softplus' was compiled against dagrad's headers of ABI version 9"* ]] ||
  fail "a plugin of another ABI version: rc $rc: $err"
echo "plugin of another ABI version refused: ok"
echo "installed library: ok"
