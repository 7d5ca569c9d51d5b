/*
 * tokenizer.h: the native engine's tokenizers as a library: Hugging Face
 * tokenizer.json pipelines (WordPiece, BPE with byte fallback, byte-level
 * BPE; normalizers, pre-tokenizers, post-processor templates, truncation) and
 * bare vocab.txt files, giving the same ids as Hugging Face `tokenizers`
 * (tests/unit/test_tokenizer_*.c against tests/reference/ref_tok_*.js).
 * `cmteb tokenize` prints what it gives.
 *
 * Ownership: cm_tokenizer_load* allocate the tokenizer, cm_tokenizer_free
 * frees it (NULL is fine). Encodings are caller-owned structs whose arrays
 * the tokenizer grows; release them with cm_tok_encoding_free. Strings
 * returned by accessors are borrowed from the tokenizer.
 */
#ifndef CMTEB_TOKENIZER_H
#define CMTEB_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A byte range [start, end) in the original input text. */
typedef struct cm_tok_span {
    uint32_t start, end;
} cm_tok_span;

typedef struct cm_tokenizer cm_tokenizer;

/* Loads DIR/tokenizer.json, else DIR/vocab.txt (+ tokenizer_config.json's
 * do_lower_case / strip_accents / tokenize_chinese_chars when present) as a
 * BERT WordPiece tokenizer. PATH may also name a tokenizer.json or vocab.txt
 * file directly. */
int  cm_tokenizer_load(cm_tokenizer **out, const char *path);
int  cm_tokenizer_load_json(cm_tokenizer **out, const char *tokenizer_json_path);
int  cm_tokenizer_load_vocab(cm_tokenizer **out, const char *vocab_txt_path, int lowercase);
void cm_tokenizer_free(cm_tokenizer *t);

typedef struct cm_tok_options {
    int    add_special_tokens;  /* default 1: apply the post-processor template */
    size_t max_length;          /* 0: none; else truncate (right) so that the result,
                                   special tokens included, has at most this many */
} cm_tok_options;
cm_tok_options cm_tok_default_options(void);

typedef struct cm_tok_encoding {
    int32_t     *ids;
    cm_tok_span *offsets;   /* byte range in the input text; {0,0} for added template tokens */
    uint8_t     *special;   /* 1 for special tokens (template or special added tokens) */
    size_t       n, cap;
    size_t       n_truncated;  /* content tokens dropped by truncation */
} cm_tok_encoding;

/* Encodes text (NUL-terminated UTF-8) into enc (reset first; arrays reused).
 * Invalid UTF-8 bytes are handled as U+FFFD-free single bytes: they are kept
 * as their own character (the model decides: WordPiece gives [UNK]). */
int  cm_tokenizer_encode(const cm_tokenizer *t, const char *text, const cm_tok_options *opt, cm_tok_encoding *enc);
void cm_tok_encoding_free(cm_tok_encoding *enc);

/* Token text for an id (added tokens included); NULL if out of range. */
const char *cm_tokenizer_id_to_token(const cm_tokenizer *t, int32_t id);
/* Id of a token string (added tokens first, then the model); -1 if absent. */
int32_t     cm_tokenizer_token_to_id(const cm_tokenizer *t, const char *tok);
/* Largest id + 1 over the model vocabulary and added tokens. */
size_t      cm_tokenizer_vocab_size(const cm_tokenizer *t);
/* How many tokens the post-processor adds to a single sequence (2 for
 * [CLS] x [SEP]); 0 when there is none. */
size_t      cm_tokenizer_num_special(const cm_tokenizer *t);
/* "WordPiece", "BPE", ... from the JSON model type. Borrowed. */
const char *cm_tokenizer_model_type(const cm_tokenizer *t);
/* Truncation max_length from tokenizer.json ("truncation": {...}); 0 if none. */
size_t      cm_tokenizer_json_max_length(const cm_tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif
