#!/usr/bin/env bash
# Fidelity: render MJML files with bulletin (mrml plus bulletin's workarounds) and with the
# official compiler (the npm package `mjml`), screenshot both in headless Chromium at 600 and
# 375 px with every image answered by one placeholder, and count the pixel-identical ones.
#
#   scripts/compare-mjml.sh [DIR_OR_FILES…]
#
# DIR_OR_FILES default to $MJML_TEMPLATES (a folder of .mjml files, e.g. the `templates` folder
# of the public mjmlio/email-templates repository) and tests/fixtures/mjml (the minimal
# reproductions of each mrml difference). mjml and playwright-core are looked for in
# $MJML_CACHE/node_modules (default /tmp/mjml-compare); install them there with
#   npm install --prefix "$MJML_CACHE" mjml@5.4.1 playwright-core
# Missing pieces are reported and skipped; the script always goes on with what it has.
# Screenshots of differing files go to $OUT (default target/mjml-compare).
set -uo pipefail
cd "$(dirname "$0")/.."

CACHE=${MJML_CACHE:-/tmp/mjml-compare}
OUT=${OUT:-target/mjml-compare}
BULLETIN=${BULLETIN:-target/release/bulletin}
[ -x "$BULLETIN" ] || BULLETIN=target/debug/bulletin

inputs=("$@")
if [ ${#inputs[@]} -eq 0 ]; then
  if [ -n "${MJML_TEMPLATES:-}" ] && [ -d "$MJML_TEMPLATES" ]; then
    inputs+=("$MJML_TEMPLATES")
  else
    echo "compare-mjml: no official templates: set MJML_TEMPLATES to the templates folder of mjmlio/email-templates (skipped)" >&2
  fi
  inputs+=(tests/fixtures/mjml)
fi

files=()
for i in "${inputs[@]}"; do
  if [ -d "$i" ]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "$i" -maxdepth 1 -name '*.mjml' | sort)
  elif [ -f "$i" ]; then
    files+=("$i")
  else
    echo "compare-mjml: $i: no such file or folder (skipped)" >&2
  fi
done
if [ ${#files[@]} -eq 0 ]; then
  echo "compare-mjml: nothing to compare" >&2
  exit 0
fi

if [ ! -x "$BULLETIN" ]; then
  echo "compare-mjml: no bulletin binary: run cargo build first (nothing compared)" >&2
  exit 0
fi
MJML="$CACHE/node_modules/.bin/mjml"
have_mjml=1
if [ ! -x "$MJML" ]; then
  echo "compare-mjml: mjml is not installed in $CACHE: npm install --prefix $CACHE mjml@5.4.1 playwright-core (bulletin's side only)" >&2
  have_mjml=0
fi
if [ ! -d "$CACHE/node_modules/playwright-core" ]; then
  echo "compare-mjml: playwright-core is not installed in $CACHE: no screenshots are compared" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/html" "$OUT"
# One project renders every file: the MJML as the template, literal braces escaped.
mkdir -p "$work/project/issues/one" "$work/project/templates"
printf '[compose]\nvalidation = "soft"\n' > "$work/project/bulletin.toml"
printf 'subject = "S"\ntitle = "T"\n' > "$work/project/issues/one/issue.toml"

for f in "${files[@]}"; do
  name=$(basename "$f" .mjml)
  sed 's/{{/\\{{/g' "$f" > "$work/project/templates/bulletin.mjml.hbs"
  if (cd "$work/project" && "$OLDPWD/$BULLETIN" build issues/one --out out >/dev/null 2>"$work/err"); then
    cp "$work/project/out/one.html" "$work/html/$name.bulletin.html"
  else
    echo "compare-mjml: $name: bulletin cannot build it: $(head -1 "$work/err")" >&2
  fi
  if [ $have_mjml -eq 1 ]; then
    "$MJML" "$f" --config.validationLevel=skip -o "$work/html/$name.mjml.html" 2>/dev/null \
      || echo "compare-mjml: $name: mjml cannot compile it" >&2
  fi
done

if [ $have_mjml -eq 0 ] || [ ! -d "$CACHE/node_modules/playwright-core" ]; then
  exit 0
fi
NODE_PATH="$CACHE/node_modules" node scripts/lib/compare-mjml.mjs "$work/html" "$OUT"
