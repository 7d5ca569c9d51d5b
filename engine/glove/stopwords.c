/*
 * stopwords.c: the English stop-word list sentence-transformers'
 * WhitespaceTokenizer uses by default (its ENGLISH_STOP_WORDS: ASCII
 * punctuation tokens plus common English words), which the MTEB GloVe
 * baseline was built with; and Python-style lowercasing for its lookups.
 */
#include "engine/glove/glove.h"
#include "engine/text/unicode.h"

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

/* Python's str.lower() through the Unicode tables of engine/text/unicode.c
 * (full lowercase mappings); invalid bytes are copied unchanged. */
size_t cm_utf8_lower(const char *s, size_t len, char *out) {
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp, low[3];
        size_t k = cm_utf8_decode(s + i, len - i, &cp);
        if (cp == 0xFFFFFFFFu) { out[o++] = s[i]; i += 1; continue; }
        int m = cm_u_lower(cp, low);
        for (int j = 0; j < m; j++) o += cm_utf8_encode(low[j], out + o);
        i += k;
    }
    return o;
}
