#!/usr/bin/env bash
# install.sh: `cmake --install` puts the binary, the static library with its
# public headers, the pkg-config file and the demo data under a prefix; a
# program built with `pkg-config --cflags --libs cmteb` embeds texts through
# the public API, and the installed binary runs the demo benchmark.
set -euo pipefail
prefix="$CMTEB_TMP/install-prefix"
rm -rf "$prefix"
cmake --install "$CMTEB_BUILD" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/cmteb"
test -f "$prefix/include/cmteb/encoder.h"
pc_dir=$(dirname "$(find "$prefix" -name cmteb.pc | head -1)")
cat > "$CMTEB_TMP/install_example.c" <<'C'
#include <stdio.h>
#include <cmteb/embedder.h>
#include <cmteb/encoder.h>
#include <cmteb/status.h>
int main(void) {
    cm_encoder *enc;
    if (cm_encoder_init(&enc, "hash:64", NULL)) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
    cm_embedder *emb;
    if (cm_embedder_init(&emb, enc, NULL)) return 1;
    const char *texts[2] = {"hello world", "hello there"};
    float out[128];
    if (cm_embed(emb, texts, 2, CM_ROLE_QUERY, NULL, "example", out)) return 1;
    double dot = 0;
    for (int i = 0; i < 64; i++) dot += out[i] * out[64 + i];
    printf("cosine %.3f\n", dot);
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    return dot > 0 && dot < 1 ? 0 : 1;
}
C
cc -std=c11 -o "$CMTEB_TMP/install_example" "$CMTEB_TMP/install_example.c" \
   $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs cmteb)
"$CMTEB_TMP/install_example"
"$prefix/bin/cmteb" run --model hash --benchmark demo --output "$CMTEB_TMP/install-run" --quiet --overwrite >/dev/null
echo "1 passed, 0 failed"
