/*
 * stopwords.c: the English stop-word list sentence-transformers'
 * WhitespaceTokenizer uses by default (its ENGLISH_STOP_WORDS: ASCII
 * punctuation tokens plus common English words), which the MTEB GloVe
 * baseline was built with; and a small UTF-8 lowercaser for its lookups.
 */
#include "engine/glove/glove.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const stop_words[] = {
    "!", "\"", "''", "``", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/", ":", ";", "<", "=",
    ">", "?", "@", "[", "\\", "]", "^", "_", "`", "{", "|", "}", "~", "a", "about", "above", "across", "after",
    "afterwards", "again", "against", "ain", "all", "almost", "alone", "along", "already", "also", "although",
    "always", "am", "among", "amongst", "amoungst", "amount", "an", "and", "another", "any", "anyhow", "anyone",
    "anything", "anyway", "anywhere", "are", "aren", "around", "as", "at", "back", "be", "became", "because",
    "become", "becomes", "becoming", "been", "before", "beforehand", "behind", "being", "below", "beside",
    "besides", "between", "beyond", "bill", "both", "bottom", "but", "by", "call", "can", "cannot", "cant", "co",
    "con", "could", "couldn", "couldnt", "cry", "d", "de", "describe", "detail", "did", "didn", "do", "does",
    "doesn", "doing", "don", "done", "down", "due", "during", "each", "eg", "eight", "either", "eleven", "else",
    "elsewhere", "empty", "enough", "etc", "even", "ever", "every", "everyone", "everything", "everywhere",
    "except", "few", "fifteen", "fifty", "fill", "find", "fire", "first", "five", "for", "former", "formerly",
    "forty", "found", "four", "from", "front", "full", "further", "get", "give", "go", "had", "hadn", "has",
    "hasn", "hasnt", "have", "haven", "having", "he", "hence", "her", "here", "hereafter", "hereby", "herein",
    "hereupon", "hers", "herself", "him", "himself", "his", "how", "however", "hundred", "i", "ie", "if", "in",
    "inc", "indeed", "interest", "into", "is", "isn", "it", "its", "itself", "just", "keep", "last", "latter",
    "latterly", "least", "less", "ll", "ltd", "m", "ma", "made", "many", "may", "me", "meanwhile", "might",
    "mightn", "mill", "mine", "more", "moreover", "most", "mostly", "move", "much", "must", "mustn", "my",
    "myself", "name", "namely", "needn", "neither", "never", "nevertheless", "next", "nine", "no", "nobody",
    "none", "noone", "nor", "not", "nothing", "now", "nowhere", "o", "of", "off", "often", "on", "once", "one",
    "only", "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own",
    "part", "per", "perhaps", "please", "put", "rather", "re", "s", "same", "see", "seem", "seemed", "seeming",
    "seems", "serious", "several", "shan", "she", "should", "shouldn", "show", "side", "since", "sincere", "six",
    "sixty", "so", "some", "somehow", "someone", "something", "sometime", "sometimes", "somewhere", "still",
    "such", "system", "t", "take", "ten", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "thence", "there", "thereafter", "thereby", "therefore", "therein", "thereupon", "these", "they", "thick",
    "thin", "third", "this", "those", "though", "three", "through", "throughout", "thru", "thus", "to",
    "together", "too", "top", "toward", "towards", "twelve", "twenty", "two", "un", "under", "until", "up",
    "upon", "us", "ve", "very", "via", "was", "wasn", "we", "well", "were", "weren", "what", "whatever", "when",
    "whence", "whenever", "where", "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever",
    "whether", "which", "while", "whither", "who", "whoever", "whole", "whom", "whose", "why", "will", "with",
    "within", "without", "won", "would", "wouldn", "y", "yet", "you", "your", "yours", "yourself", "yourselves",
};

int cm_glove_is_stopword(const char *w, size_t len) {
    /* The list is sorted for the words (bytes); punctuation first. Linear
     * scan over ~370 short strings is cheap next to the vector sums, but a
     * length filter keeps it fast. */
    if (len == 0 || len > 12) return 0;
    for (size_t i = 0; i < sizeof stop_words / sizeof stop_words[0]; i++)
        if (strlen(stop_words[i]) == len && !memcmp(stop_words[i], w, len)) return 1;
    return 0;
}

/* Decodes one UTF-8 code point; returns its byte length (1 on bad bytes). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp) {
    if (s[0] < 0x80 || len < 2) { *cp = s[0]; return 1; }
    if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) { *cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f); return 2; }
    if ((s[0] & 0xf0) == 0xe0 && len >= 3) { *cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f); return 3; }
    if ((s[0] & 0xf8) == 0xf0 && len >= 4) { *cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) | ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f); return 4; }
    *cp = s[0];
    return 1;
}

static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xc0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) { out[0] = (char)(0xe0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); out[2] = (char)(0x80 | (cp & 0x3f)); return 3; }
    out[0] = (char)(0xf0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t lower_cp(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0x80) return c;
    if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;                 /* Latin-1 */
    if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17f) {
        /* Latin Extended-A: pairs, even upper (odd upper in 0x139..0x148 and 0x179..0x17e) */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3ab && c != 0x3a2) return c + 32;                /* Greek */
    if (c >= 0x410 && c <= 0x42f) return c + 32;                              /* Cyrillic */
    if (c >= 0x400 && c <= 0x40f) return c + 80;
    return c;
}

size_t cm_utf8_lower(const char *s, size_t len, char *out) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, len - i, &cp);
        if (k == 1 && p[i] >= 0x80) out[o++] = (char)p[i];   /* invalid byte: copy */
        else o += utf8_encode(lower_cp(cp), out + o);
        i += k;
    }
    return o;
}
