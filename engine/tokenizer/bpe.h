/*
 * bpe.h: the BPE side of the tokenizer.json pipeline (issue 6); its
 * components are built through the type tables of components.c:
 *
 *   bpe_model.c              model "BPE": vocab + merges by rank (HF's
 *                            priority-queue merge), byte_fallback to <0xNN>
 *                            tokens, unk with fuse_unk, ignore_merges,
 *                            continuing_subword_prefix / end_of_word_suffix
 *   bpe_pretok.c             pre-tokenizers Metaspace (prepend_scheme, split),
 *                            ByteLevel (GPT-2 byte-to-unicode map, regex split,
 *                            add_prefix_space), Split (String/Regex, every
 *                            delimiter behaviour, invert), Digits
 *   engine/text/normalizers.c  normalizers Prepend, Replace (String or Regex), NFC
 *   engine/text/regex.c      the code-point regex engine Split/ByteLevel use
 *   engine/text/nfc.c        NFC with per-byte alignment
 *
 * Verified against Hugging Face tokenizers (npm `tokenizers`) by
 * tests/reference/ref_tok_bpe.js -> tests/fixtures/dec/tok/ and
 * tests/unit/test_tokenizer_bpe.c.
 */
#ifndef CMTEB_ENGINE_TOKENIZER_BPE_H
#define CMTEB_ENGINE_TOKENIZER_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer/tokenizer.h"

/* The GPT-2 byte-to-unicode map: the code point byte b is shown as. */
uint32_t cm_bpe_byte_char(uint8_t b);

#endif
