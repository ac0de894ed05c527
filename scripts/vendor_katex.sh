#!/usr/bin/env bash
# Vendors a pinned KaTeX release from the npm registry into src/dailypapers/web/static/vendor/katex:
# the minified script, auto-render, the stylesheet, the woff2 fonts and the licence. Run once per
# upgrade and commit the result; the site needs no network at run time (issue 15).
#   scripts/vendor_katex.sh [version]
set -euo pipefail
VERSION=${1:-0.19.1}
DEST=src/dailypapers/web/static/vendor/katex
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm pack --silent "katex@$VERSION" >/dev/null)
TGZ="$TMP/katex-$VERSION.tgz"
SHA512=$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)
EXPECTED=$(npm view "katex@$VERSION" dist.integrity)
[ "sha512-$SHA512" = "$EXPECTED" ] || { echo "integrity mismatch: sha512-$SHA512 != $EXPECTED" >&2; exit 1; }
tar -xzf "$TGZ" -C "$TMP"
SRC="$TMP/package"

rm -rf "$DEST"
mkdir -p "$DEST/contrib" "$DEST/fonts"
cp "$SRC/LICENSE" "$SRC/dist/katex.min.js" "$SRC/dist/katex.min.css" "$DEST/"
cp "$SRC/dist/contrib/auto-render.min.js" "$DEST/contrib/"
cp "$SRC"/dist/fonts/*.woff2 "$DEST/fonts/"
# Every browser that runs this KaTeX reads woff2: drop the woff/ttf fallbacks the files are not shipped for.
sed -i -E 's/,url\(fonts\/[A-Za-z0-9_-]+\.(woff|ttf)\) format\("(woff|truetype)"\)//g' "$DEST/katex.min.css"

cat > "$DEST/README.md" <<README
# KaTeX $VERSION (vendored)

From the npm registry by \`scripts/vendor_katex.sh $VERSION\`: \`npm pack katex@$VERSION\`,
tarball integrity \`sha512-$SHA512\` (checked against \`npm view katex@$VERSION dist.integrity\`).
Files: \`dist/katex.min.js\`, \`dist/katex.min.css\` (woff/ttf fallbacks removed from its
\`@font-face\` rules), \`dist/contrib/auto-render.min.js\`, \`dist/fonts/*.woff2\`, \`LICENSE\` (MIT).
Loaded on demand by \`static/math.js\`. Do not edit by hand: rerun the script.

sha256 of each file:

\`\`\`
$(cd "$DEST" && find . -type f ! -name README.md | sort | xargs sha256sum)
\`\`\`
README
du -sh "$DEST"
