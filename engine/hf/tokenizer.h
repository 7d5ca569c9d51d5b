/*
 * tokenizer.h: Hugging Face tokenizer.json pipelines (and bare vocab.txt)
 * in C: added/special tokens -> normalizer -> pre-tokenizer -> model ->
 * truncation -> post-processor, with byte offsets into the original text.
 *
 * What is implemented where:
 *   tokenizer.c          loading, added tokens, the pipeline, truncation,
 *                        post-processors (TemplateProcessing, BertProcessing,
 *                        RobertaProcessing, ByteLevel (ids unchanged), Sequence)
 *   tokenizer_bert.c     BertNormalizer, Lowercase, StripAccents, NFD, Strip,
 *                        Sequence normalizers; BertPreTokenizer, Whitespace,
 *                        WhitespaceSplit, Sequence pre-tokenizers; WordPiece
 *   unicode.c/.h         UTF-8, categories, whitespace, lowercase, NFD
 *   tokenizer_bpe*.c     (H5, issue 6) every other component type through the
 *                        four cm_tok_ext_* hooks below: the BPE model
 *                        (SentencePiece style with byte fallback, and
 *                        byte-level), Metaspace / ByteLevel / Split
 *                        pre-tokenizers, Prepend / Replace / NFC normalizers.
 *                        Until that file lands, stub_tok_ext_{normalizer,pretok,model}.c (H4)
 *                        defines the hooks as "not supported yet" errors;
 *                        H5: delete engine/hf/stub_tok_ext_<kind>.c in the
 *                        commit that adds your definitions.
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
#ifndef CMTEB_ENGINE_HF_TOKENIZER_H
#define CMTEB_ENGINE_HF_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* ---- text with alignment ---------------------------------------------- */

/* A byte range [start, end) in the original input text. */
typedef struct cm_tok_span {
    uint32_t start, end;
} cm_tok_span;

/* A UTF-8 string being normalized, with, for every byte, the range of the
 * original text it came from (a byte produced from the original character
 * at [a, b) carries {a, b}; inserted bytes carry the range of the character
 * they were inserted next to). */
typedef struct cm_tok_nstr {
    char        *s;      /* NUL-terminated, owned */
    cm_tok_span *align;  /* (len) owned */
    size_t       len, cap;
} cm_tok_nstr;

/* Appends n bytes, each aligned to span. */
int  cm_tok_nstr_append(cm_tok_nstr *s, const char *bytes, size_t n, cm_tok_span span);
void cm_tok_nstr_clear(cm_tok_nstr *s);
void cm_tok_nstr_free(cm_tok_nstr *s);
/* Swaps contents (used to build a transformed copy then replace). */
void cm_tok_nstr_swap(cm_tok_nstr *a, cm_tok_nstr *b);

/* The words a pre-tokenizer produces: word i is text[off[i] .. off[i+1])
 * with per-byte alignment in s.align. Pre-tokenizers map a word list to a
 * new word list (so Sequence composes). */
typedef struct cm_tok_words {
    cm_tok_nstr s;       /* all words concatenated */
    size_t     *off;     /* (n + 1) word boundaries in s */
    size_t      n, cap;
} cm_tok_words;

/* Appends one word (n bytes with per-byte spans, align may be NULL for
 * "all bytes aligned to span"). */
int  cm_tok_words_add(cm_tok_words *w, const char *bytes, size_t n, const cm_tok_span *align, cm_tok_span span);
void cm_tok_words_clear(cm_tok_words *w);
void cm_tok_words_free(cm_tok_words *w);

/* Tokens a model produced for one word: ids with byte ranges relative to
 * the word. */
typedef struct cm_tok_pieces {
    int32_t     *ids;
    cm_tok_span *span;   /* relative to the word handed to the model */
    size_t       n, cap;
} cm_tok_pieces;

int  cm_tok_pieces_push(cm_tok_pieces *p, int32_t id, uint32_t start, uint32_t end);
void cm_tok_pieces_free(cm_tok_pieces *p);

/* A string -> id hash map (copies the strings). */
typedef struct cm_tok_vocab cm_tok_vocab;
int     cm_tok_vocab_new(cm_tok_vocab **out, size_t expected);
/* Adds or replaces s[0..len) -> id. */
int     cm_tok_vocab_put(cm_tok_vocab *v, const char *s, size_t len, int32_t id);
int32_t cm_tok_vocab_get(const cm_tok_vocab *v, const char *s, size_t len);   /* -1 if absent */
size_t  cm_tok_vocab_count(const cm_tok_vocab *v);
void    cm_tok_vocab_free(cm_tok_vocab *v);

/* ---- components -------------------------------------------------------- */

typedef struct cm_tok_normalizer cm_tok_normalizer;
struct cm_tok_normalizer {
    /* Rewrites s in place (or into a scratch string then swaps). */
    int  (*normalize)(const cm_tok_normalizer *self, cm_tok_nstr *s);
    void (*free)(cm_tok_normalizer *self);
};

typedef struct cm_tok_pretok cm_tok_pretok;
struct cm_tok_pretok {
    /* Splits/transforms in into out (out is cleared first by the caller). */
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

/* Extension hooks for component types tokenizer.c does not know (H5's
 * tokenizer_bpe*.c). j is the component's JSON object ("type" names it),
 * path the tokenizer.json path for messages. On success *out is a new
 * component (the pipeline frees it). For a type the hook does not know
 * either, return cm_error(CM_ERR_UNSUPPORTED, "%s: <kind> type '%s' is not
 * supported", path, type). A pre-tokenizer can tell whether a word starts
 * the input text (Metaspace prepend_scheme "first") from its alignment:
 * words.s.align[words.off[i]].start == 0. The normalizer and pre-tokenizer
 * run separately on each stretch of text between added tokens, as in HF. */
int cm_tok_ext_normalizer(cm_tok_normalizer **out, const cJSON *j, const char *path);
int cm_tok_ext_pretok(cm_tok_pretok **out, const cJSON *j, const char *path);
int cm_tok_ext_model(cm_tok_model **out, const cJSON *j, const char *path);

/* Component constructors tokenizer_bert.c provides (also used by
 * tokenizer.c's JSON dispatch and by the vocab.txt loader). */
int cm_tok_normalizer_from_json(cm_tok_normalizer **out, const cJSON *j, const char *path);
int cm_tok_pretok_from_json(cm_tok_pretok **out, const cJSON *j, const char *path);
int cm_tok_model_from_json(cm_tok_model **out, const cJSON *j, const char *path);

typedef struct cm_tok_bert_norm_opts {
    int clean_text;            /* default 1 */
    int handle_chinese_chars;  /* default 1 */
    int strip_accents;         /* -1 = follow lowercase (JSON null), 0, 1 */
    int lowercase;             /* default 1 */
} cm_tok_bert_norm_opts;
int cm_tok_bert_normalizer_new(cm_tok_normalizer **out, cm_tok_bert_norm_opts o);
int cm_tok_bert_pretok_new(cm_tok_pretok **out);
/* WordPiece over vocab (n tokens, id = index; copied). */
int cm_tok_wordpiece_new(cm_tok_model **out, const char *const *vocab, size_t n, const char *unk_token,
                         const char *prefix, size_t max_input_chars_per_word);

/* ---- the tokenizer ---------------------------------------------------- */

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

#endif
