/*
 * tokenizer.h: Hugging Face tokenizer.json pipelines (and bare vocab.txt)
 * in C: added/special tokens -> normalizer -> pre-tokenizer -> model ->
 * truncation -> post-processor, with byte offsets into the original text.
 *
 * What is implemented where:
 *   tokenizer.c          loading, added tokens, the pipeline, truncation,
 *                        post-processors (TemplateProcessing, BertProcessing,
 *                        RobertaProcessing, ByteLevel (ids unchanged), Sequence)
 *   components.c         the tables from tokenizer.json "type" strings to
 *                        constructors (normalizers, pre-tokenizers, models)
 *   wordpiece.c          BertPreTokenizer, WhitespaceSplit, Sequence
 *                        pre-tokenizers; the WordPiece model
 *   bpe_model.c          the BPE model (SentencePiece style with byte
 *                        fallback, and byte-level); bpe.h
 *   bpe_pretok.c         Metaspace / ByteLevel / Split / Digits pre-tokenizers
 *   unigram.c            the Unigram model (SentencePiece Unigram: Viterbi over
 *                        a byte trie of the pieces, byte fallback, fused unk)
 *   vocab.c              model outputs (cm_tok_pieces), the string -> id map
 *   engine/text/         aligned text, Unicode, normalizers, the regex engine
 *
 * Components are small vtables: an implementation embeds the interface
 * struct as its FIRST member and casts. The pipeline owns every component
 * and calls its free.
 *
 * Ownership: cm_tokenizer_load* allocate the tokenizer, cm_tokenizer_free
 * frees it (NULL is fine). Encodings are caller-owned structs whose arrays
 * the tokenizer grows; release them with cm_tok_encoding_free. Strings
 * returned by accessors are borrowed from the tokenizer.
 */
#ifndef CMTEB_ENGINE_TOKENIZER_TOKENIZER_H
#define CMTEB_ENGINE_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cmteb/tokenizer.h"
#include "engine/text/aligned.h"
#include "engine/text/normalizer.h"

/* Tokens a model produced for one word: ids with byte ranges relative to
 * the word. Caller-owned; cm_tok_pieces_push grows it, cm_tok_pieces_free
 * releases its arrays. */
typedef struct cm_tok_pieces {
    int32_t     *ids;
    cm_tok_span *span;   /* relative to the word handed to the model */
    size_t       n, cap;
} cm_tok_pieces;

int  cm_tok_pieces_push(cm_tok_pieces *p, int32_t id, uint32_t start, uint32_t end);
void cm_tok_pieces_free(cm_tok_pieces *p);

/* A string -> id hash map (copies the strings): a cm_strmap (cmteb/strmap.h)
 * with copied keys. cm_tok_vocab_new allocates, cm_tok_vocab_free releases
 * (NULL is fine). */
typedef struct cm_strmap cm_tok_vocab;
int     cm_tok_vocab_new(cm_tok_vocab **out, size_t expected);
/* Adds or replaces s[0..len) -> id. */
int     cm_tok_vocab_put(cm_tok_vocab *v, const char *s, size_t len, int32_t id);
int32_t cm_tok_vocab_get(const cm_tok_vocab *v, const char *s, size_t len);   /* -1 if absent */
size_t  cm_tok_vocab_count(const cm_tok_vocab *v);
void    cm_tok_vocab_free(cm_tok_vocab *v);

/* ---- components -------------------------------------------------------- */

typedef struct cm_tok_pretok cm_tok_pretok;
struct cm_tok_pretok {
    /* Splits/transforms in into out (out is cleared first by the caller). A
     * pre-tokenizer can tell whether a word starts the input text (Metaspace
     * prepend_scheme "first") from its alignment:
     * in->s.align[in->off[i]].start == 0. */
    int  (*split)(const cm_tok_pretok *self, const cm_tok_words *in, cm_tok_words *out);
    void (*free)(cm_tok_pretok *self);
};

typedef struct cm_tok_model cm_tok_model;
struct cm_tok_model {
    /* Appends the tokens of one pre-tokenized word (len bytes, not NUL-
     * terminated) to out, spans relative to word. */
    int         (*tokenize)(const cm_tok_model *self, const char *word, size_t len, cm_tok_pieces *out);
    int32_t     (*token_to_id)(const cm_tok_model *self, const char *tok, size_t len); /* -1 if absent */
    const char *(*id_to_token)(const cm_tok_model *self, int32_t id);                  /* NULL if absent */
    size_t      (*vocab_size)(const cm_tok_model *self);
    void        (*free)(cm_tok_model *self);
};

/* JSON constructors: j is the component's object ("type" names it), path
 * the tokenizer.json path for messages; on success *out is a new component
 * the caller releases with its free. */
typedef int (*cm_tok_pretok_ctor)(cm_tok_pretok **out, const cJSON *j, const char *path);
typedef int (*cm_tok_model_ctor)(cm_tok_model **out, const cJSON *j, const char *path);

/* The type tables (components.c), NULL-terminated, in the order the
 * "not supported" messages list them. */
typedef struct cm_tok_normalizer_type { const char *type; cm_tok_normalizer_ctor make; } cm_tok_normalizer_type;
typedef struct cm_tok_pretok_type     { const char *type; cm_tok_pretok_ctor make; } cm_tok_pretok_type;
typedef struct cm_tok_model_type      { const char *type; cm_tok_model_ctor make; } cm_tok_model_type;
extern const cm_tok_normalizer_type cm_tok_normalizer_types[];
extern const cm_tok_pretok_type     cm_tok_pretok_types[];
extern const cm_tok_model_type      cm_tok_model_types[];

/* Dispatch on j's "type" through the tables (Sequence recurses); an unknown
 * type is CM_ERR_UNSUPPORTED naming it and the supported ones. */
int cm_tok_normalizer_from_json(cm_tok_normalizer **out, const cJSON *j, const char *path);
int cm_tok_pretok_from_json(cm_tok_pretok **out, const cJSON *j, const char *path);
int cm_tok_model_from_json(cm_tok_model **out, const cJSON *j, const char *path);

/* Pre-tokenizer constructors (wordpiece.c, bpe_pretok.c). */
int cm_tok_bert_pretok_new(cm_tok_pretok **out);
/* Wraps items[0..n) into a Sequence pre-tokenizer; takes ownership of the
 * items (released on failure too; the array itself stays the caller's). */
int cm_tok_pretok_sequence_new(cm_tok_pretok **out, cm_tok_pretok *const *items, size_t n);
int cm_tok_pretok_bert_json(cm_tok_pretok **out, const cJSON *j, const char *path);            /* BertPreTokenizer */
int cm_tok_pretok_whitespace_split_json(cm_tok_pretok **out, const cJSON *j, const char *path); /* WhitespaceSplit */
int cm_tok_pretok_metaspace_json(cm_tok_pretok **out, const cJSON *j, const char *path);       /* Metaspace */
int cm_tok_pretok_bytelevel_json(cm_tok_pretok **out, const cJSON *j, const char *path);       /* ByteLevel */
int cm_tok_pretok_split_json(cm_tok_pretok **out, const cJSON *j, const char *path);           /* Split */
int cm_tok_pretok_digits_json(cm_tok_pretok **out, const cJSON *j, const char *path);          /* Digits */

/* Model constructors (wordpiece.c, bpe_model.c, unigram.c). */
/* WordPiece over vocab (n tokens, id = index; copied). */
int cm_tok_wordpiece_new(cm_tok_model **out, const char *const *vocab, size_t n, const char *unk_token,
                         const char *prefix, size_t max_input_chars_per_word);
int cm_tok_model_wordpiece_json(cm_tok_model **out, const cJSON *j, const char *path);   /* WordPiece */
int cm_tok_model_bpe_json(cm_tok_model **out, const cJSON *j, const char *path);         /* BPE */
int cm_tok_model_unigram_json(cm_tok_model **out, const cJSON *j, const char *path);     /* Unigram */

/* The tokenizer itself (cm_tokenizer_load, _encode, ...) is public: cmteb/tokenizer.h. */

#endif
