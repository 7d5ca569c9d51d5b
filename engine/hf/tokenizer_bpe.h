/*
 * tokenizer_bpe.h: the BPE side of the tokenizer.json pipeline (issue 6),
 * plugged into tokenizer.c through the cm_tok_ext_* hooks of tokenizer.h:
 *
 *   tokenizer_bpe_model.c   model "BPE": vocab + merges by rank (HF's
 *                           priority-queue merge), byte_fallback to <0xNN>
 *                           tokens, unk with fuse_unk, ignore_merges,
 *                           continuing_subword_prefix / end_of_word_suffix
 *   tokenizer_bpe_norm.c    normalizers Prepend, Replace (String or Regex), NFC
 *   tokenizer_bpe_pretok.c  pre-tokenizers Metaspace (prepend_scheme, split),
 *                           ByteLevel (GPT-2 byte-to-unicode map, regex split,
 *                           add_prefix_space), Split (String/Regex, every
 *                           delimiter behaviour, invert), Digits
 *   tokenizer_bpe_regex.c   the code-point regex engine Split/ByteLevel use
 *   tokenizer_bpe_nfc.c     NFC with per-byte alignment
 *
 * Verified against Hugging Face tokenizers (npm `tokenizers`) by
 * tests/reference/ref_tok_bpe.js -> tests/fixtures/dec/tok/ and
 * tests/unit/test_tokenizer_bpe.c.
 */
#ifndef CMTEB_ENGINE_HF_TOKENIZER_BPE_H
#define CMTEB_ENGINE_HF_TOKENIZER_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/hf/tokenizer.h"

/* NFC of in into out (out cleared first); each output character is aligned
 * to the union of the original spans of the characters it came from. */
int cm_bpe_nfc(const cm_tok_nstr *in, cm_tok_nstr *out);

/* Reads a "pattern" field {"String": s} or {"Regex": r}; *pat borrowed from j.
 * owner names the component for messages ("pre_tokenizer Split"). */
int cm_bpe_json_pattern(const cJSON *j, const char *path, const char *owner, const char **pat, int *is_regex);

/* The GPT-2 byte-to-unicode map: the code point byte b is shown as. */
uint32_t cm_bpe_byte_char(uint8_t b);

#endif
