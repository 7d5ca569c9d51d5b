/*
 * test_lazylib.c: libcurl, libarchive and libcrypto loaded on first use (cmteb/lazylib.h) and the forwarders of
 * core/lazy_*.c, end to end without the network: a file:// transfer whose outcome depends on each kind of
 * curl_easy_setopt argument (long, string, object and function pointers, curl_off_t) reaching libcurl intact,
 * the same through the multi interface, sha256/sha1 of "abc" against FIPS 180's digests, a ustar written here
 * by hand read back through the archive_read_* forwarders. A child process, started first, points the three
 * libraries at files that do not exist or lack the symbols and checks the messages, the forwarders' failure
 * values and that the call sites pass the messages on.
 */
#include "check.h"
#include "cmteb/lazylib.h"
#include "datasets/formats/formats.h"
#include "datasets/hub/hub_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include <limits.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_dir[512];

static void tmp_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", tmp_dir, name); }

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* ---- the failure path (in a child: a library is looked up once per process) ------------------------------ */
static int contains(const char *s, const char *part) { return s && strstr(s, part) != NULL; }

static void missing_libraries(void) {
    setenv("CMTEB_LAZYLIB_PATH_CURL", "/nonexistent/libcurl-missing.so.4", 1);
    setenv("CMTEB_LAZYLIB_PATH_ARCHIVE", "/nonexistent/libarchive-missing.so.13", 1);
    setenv("CMTEB_LAZYLIB_PATH_CRYPTO", "libz.so.1", 1);   /* a library without EVP_*: a missing symbol */

    CHECK(cm_need_curl() == CM_ERR_UNSUPPORTED);
    const char *m = cm_last_error();
    CHECK(contains(m, "/nonexistent/libcurl-missing.so.4"));
    CHECK(contains(m, "apt-get install libcurl4"));
    CHECK(contains(m, "openai:"));
    CHECK(contains(m, "No such file"));   /* dlerror()'s text */
    cm_error_clear();
    CHECK(cm_need_curl() == CM_ERR_UNSUPPORTED);   /* the same outcome, the message set again */
    CHECK(contains(cm_last_error(), "libcurl-missing"));

    CHECK(cm_need_archive() == CM_ERR_UNSUPPORTED);
    CHECK(contains(cm_last_error(), "libarchive-missing.so.13"));
    CHECK(contains(cm_last_error(), "apt-get install libarchive13"));
    CHECK(cm_need_crypto() == CM_ERR_UNSUPPORTED);
    CHECK(contains(cm_last_error(), "libz.so.1"));
    CHECK(contains(cm_last_error(), "has no EVP_"));
    CHECK(contains(cm_last_error(), "apt-get install libssl3"));

    /* the forwarders fail without crashing and leave the last error alone */
    cm_error_clear();
    CHECK(curl_easy_init() == NULL);
    CHECK(curl_easy_setopt(NULL, CURLOPT_VERBOSE, 0L) == CURLE_FAILED_INIT);
    CHECK(curl_easy_getinfo(NULL, CURLINFO_RESPONSE_CODE, &(long){0}) == CURLE_FAILED_INIT);
    CHECK(curl_easy_perform(NULL) == CURLE_FAILED_INIT);
    CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_FAILED_INIT);
    CHECK(curl_easy_strerror(CURLE_OK) != NULL);
    CHECK(curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL) == (time_t)-1);
    CHECK(curl_slist_append(NULL, "a: b") == NULL);
    curl_slist_free_all(NULL);
    CHECK(curl_multi_init() == NULL);
    int left = 7;
    CHECK(curl_multi_info_read(NULL, &left) == NULL && left == 0);
    CHECK(curl_url() == NULL);
    CHECK(archive_read_new() == NULL);
    CHECK(archive_read_open_filename(NULL, "x.tar", 512) == ARCHIVE_FATAL);
    CHECK(archive_entry_pathname(NULL) == NULL);
    CHECK(EVP_sha256() == NULL && EVP_MD_CTX_new() == NULL);
    CHECK(*cm_last_error() == '\0');

    /* the call sites pass the loader's message on */
    char path[600];
    tmp_path(path, sizeof path, "lazylib_child.bin");
    CHECK(write_file(path, "abc", 3));
    char digest[65];
    CHECK(hub_file_sha256(path, digest) == CM_ERR_UNSUPPORTED);
    CHECK(contains(cm_last_error(), "apt-get install libssl3"));
    char *data = NULL;
    size_t len = 0;
    CHECK(cm_tar_read_member(path, "x", 1024, &data, &len) == CM_ERR_UNSUPPORTED);
    CHECK(contains(cm_last_error(), "apt-get install libarchive13"));
    CHECK(data == NULL);
    cm_encoder_params ep = cm_encoder_default_params();
    ep.quiet = 1;
    cm_encoder *enc = NULL;
    CHECK(cm_encoder_init(&enc, "openai:http://127.0.0.1:9/v1/embeddings", &ep) == CM_ERR_UNSUPPORTED);
    CHECK(contains(cm_last_error(), "apt-get install libcurl4"));
    CHECK(enc == NULL);
    cm_encoder_free(enc);
}

/* ---- libcurl ------------------------------------------------------------------------------------------- */
typedef struct {
    char   data[8192];
    size_t n;
    int    calls;
} sink;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud) {
    sink  *s = ud;
    size_t n = size * nmemb;
    if (n > sizeof s->data - s->n) return 0;
    memcpy(s->data + s->n, ptr, n);
    s->n += n;
    s->calls++;
    return n;
}

/* Each option's argument type is forwarded as such: a wrong one changes what arrives (the bytes skipped, the
 * callback and its data, the URL). */
static void curl_easy_options(const char *url, const char *content, size_t n) {
    CURL *e = curl_easy_init();
    CHECK(e != NULL);
    if (!e) return;
    sink s = {.n = 0};
    CHECK(curl_easy_setopt(e, CURLOPT_VERBOSE, 0L) == CURLE_OK);                   /* long */
    CHECK(curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L) == CURLE_OK);                  /* long */
    CHECK(curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK);                       /* string */
    CHECK(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK);        /* function pointer */
    CHECK(curl_easy_setopt(e, CURLOPT_WRITEDATA, &s) == CURLE_OK);                  /* object pointer */
    CHECK(curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)10) == CURLE_OK);              /* off_t */
    CURLcode cc = curl_easy_perform(e);
    CHECK(cc == CURLE_OK);
    if (cc) fprintf(stderr, "curl_easy_perform: %s\n", curl_easy_strerror(cc));
    CHECK(s.calls > 0);
    CHECK(s.n == n - 10 && memcmp(s.data, content + 10, n - 10) == 0);
    curl_off_t got = -1;
    CHECK(curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &got) == CURLE_OK);
    CHECK(got == (curl_off_t)(n - 10));
    char *eff = NULL;
    CHECK(curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK);
    CHECK(eff && strcmp(eff, url) == 0);
    long code = -1;
    CHECK(curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 0);   /* file://: none */

    /* an offset past the end: the 64-bit values must arrive whole (2^32 + 20 cut to 32 bits would be 20) */
    curl_easy_reset(e);
    s.n = 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, ((curl_off_t)1 << 32) + 20);
    CHECK(curl_easy_perform(e) == CURLE_BAD_DOWNLOAD_RESUME && s.n == 0);
    curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)20);
    CHECK(curl_easy_perform(e) == CURLE_OK && s.n == n - 20);
    s.n = 0;
    curl_easy_setopt(e, CURLOPT_RESUME_FROM, (1L << 32) + 30);   /* the long option */
    CHECK(curl_easy_perform(e) == CURLE_BAD_DOWNLOAD_RESUME && s.n == 0);
    curl_easy_setopt(e, CURLOPT_RESUME_FROM, 30L);
    CHECK(curl_easy_perform(e) == CURLE_OK && s.n == n - 30 && !memcmp(s.data, content + 30, n - 30));
    curl_easy_cleanup(e);
}

static void curl_multi(const char *url, const char *content, size_t n) {
    CURLM *m = curl_multi_init();
    CURL  *e = curl_easy_init();
    CHECK(m && e);
    if (!m || !e) { curl_easy_cleanup(e); curl_multi_cleanup(m); return; }
    sink s = {.n = 0};
    int  tag = 42;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)&tag);
    CHECK(curl_multi_add_handle(m, e) == CURLM_OK);
    int running = 1, done = 0;
    for (int i = 0; i < 1000 && !done; i++) {
        CHECK(curl_multi_perform(m, &running) == CURLM_OK);
        CURLMsg *msg;
        int      left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CHECK(msg->easy_handle == e && msg->data.result == CURLE_OK);
            int *back = NULL;
            CHECK(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&back) == CURLE_OK);
            CHECK(back == &tag);
            done = 1;
        }
        if (!done && running) CHECK(curl_multi_poll(m, NULL, 0, 100, NULL) == CURLM_OK);
    }
    CHECK(done);
    CHECK(s.n == n && memcmp(s.data, content, n) == 0);
    CHECK(curl_multi_remove_handle(m, e) == CURLM_OK);
    curl_easy_cleanup(e);
    CHECK(curl_multi_cleanup(m) == CURLM_OK);
}

static void curl_misc(void) {
    CHECK(curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL) == (time_t)784111777);
    CHECK(strlen(curl_easy_strerror(CURLE_COULDNT_CONNECT)) > 0);
    struct curl_slist *l = curl_slist_append(NULL, "A: 1");
    l = l ? curl_slist_append(l, "B: 2") : NULL;
    CHECK(l && !strcmp(l->data, "A: 1") && l->next && !strcmp(l->next->data, "B: 2"));
    curl_slist_free_all(l);
    CURLU *u = curl_url();
    CHECK(u != NULL);
    if (!u) return;
    char *host = NULL, *port = NULL;
    CHECK(curl_url_set(u, CURLUPART_URL, "https://Example.org:8443/a/b?c=d", 0) == CURLUE_OK);
    CHECK(curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && !strcmp(host, "Example.org"));
    CHECK(curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port && !strcmp(port, "8443"));
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* ---- libcrypto ----------------------------------------------------------------------------------------- */
static void digest_of(const EVP_MD *md, const char *text, char *hex) {
    EVP_MD_CTX  *ctx = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int  dn = 0;
    hex[0] = '\0';
    CHECK(ctx && md);
    if (!ctx || !md) { EVP_MD_CTX_free(ctx); return; }
    CHECK(EVP_DigestInit_ex(ctx, md, NULL) == 1);
    CHECK(EVP_DigestUpdate(ctx, text, 1) == 1);   /* in two parts */
    CHECK(EVP_DigestUpdate(ctx, text + 1, strlen(text) - 1) == 1);
    CHECK(EVP_DigestFinal_ex(ctx, d, &dn) == 1);
    for (unsigned int i = 0; i < dn; i++) sprintf(hex + 2 * i, "%02x", d[i]);
    EVP_MD_CTX_free(ctx);
}

static void crypto(void) {
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    digest_of(EVP_sha256(), "abc", hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    digest_of(EVP_sha1(), "abc", hex);
    CHECK(!strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d"));
}

/* ---- libarchive ---------------------------------------------------------------------------------------- */
/* A ustar of one regular file: a 512-byte header (octal fields, the checksum over the header with its own
 * field as spaces), the data padded to 512, two zero blocks. */
static size_t make_ustar(unsigned char *out, const char *name, const char *data) {
    size_t n = strlen(data);
    memset(out, 0, 512 * 4);
    unsigned char *h = out;
    memcpy(h, name, strlen(name));
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)n);
    memcpy(h + 136, "14707264600", 11);   /* mtime */
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);   /* six digits, NUL, then the space left there */
    h[155] = ' ';
    memcpy(out + 512, data, n);
    return 512 * 4;   /* header, one data block (n <= 512), two zero blocks */
}

static void tar(void) {
    const char *content = "hello from a hand-made ustar\n";
    unsigned char buf[2048];
    size_t total = make_ustar(buf, "dir/hello.txt", content);
    char path[600];
    tmp_path(path, sizeof path, "lazylib.tar");
    CHECK(write_file(path, buf, total));

    struct archive *a = archive_read_new();
    CHECK(a != NULL);
    if (!a) return;
    CHECK(archive_read_support_filter_gzip(a) == ARCHIVE_OK);
    CHECK(archive_read_support_filter_bzip2(a) == ARCHIVE_OK);
    CHECK(archive_read_support_filter_xz(a) >= ARCHIVE_WARN);   /* WARN when libarchive uses an external xz */
    CHECK(archive_read_support_format_tar(a) == ARCHIVE_OK);
    CHECK(archive_read_support_format_gnutar(a) == ARCHIVE_OK);
    CHECK(archive_read_open_filename(a, path, 10240) == ARCHIVE_OK);
    struct archive_entry *e = NULL;
    CHECK(archive_read_next_header(a, &e) == ARCHIVE_OK);
    CHECK(e && archive_entry_pathname(e) && !strcmp(archive_entry_pathname(e), "dir/hello.txt"));
    CHECK(e && archive_entry_filetype(e) == AE_IFREG);
    CHECK(e && archive_entry_size_is_set(e) && archive_entry_size(e) == (la_int64_t)strlen(content));
    char       got[128];
    la_ssize_t k = archive_read_data(a, got, sizeof got);
    CHECK(k == (la_ssize_t)strlen(content) && !memcmp(got, content, strlen(content)));
    CHECK(archive_read_next_header(a, &e) == ARCHIVE_EOF);
    CHECK(archive_read_free(a) == ARCHIVE_OK);

    /* not an archive: the error string comes through */
    char junk[600];
    tmp_path(junk, sizeof junk, "lazylib_junk.tar");
    CHECK(write_file(junk, "definitely not a tar file", 25));
    a = archive_read_new();
    archive_read_support_format_tar(a);
    CHECK(archive_read_open_filename(a, junk, 10240) != ARCHIVE_OK);
    CHECK(archive_error_string(a) && strlen(archive_error_string(a)) > 0);
    archive_read_free(a);

    /* and the call site */
    char  *data = NULL;
    size_t len = 0;
    CHECK_OK(cm_tar_read_member(path, "dir/hello.txt", 1024, &data, &len));
    CHECK(data && len == strlen(content) && !memcmp(data, content, len));
    free(data);
}

int main(void) {
    const char *t = check_env("CMTEB_TMP");
    snprintf(tmp_dir, sizeof tmp_dir, "%s", *t ? t : "/tmp");

    /* first, before this process loads anything: the child sees the libraries missing */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        missing_libraries();
        exit(check_report() ? 1 : 0);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    CHECK_OK(cm_need_curl());
    CHECK_OK(cm_need_archive());
    CHECK_OK(cm_need_crypto());
    CHECK_OK(cm_need_curl());   /* again: the same outcome */
    CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);

    char content[3000];
    for (size_t i = 0; i < sizeof content; i++) content[i] = (char)('a' + (i * 7 + i / 26) % 26);
    char path[600], url[PATH_MAX + 16];
    tmp_path(path, sizeof path, "lazylib_curl.txt");
    CHECK(write_file(path, content, sizeof content));
    char real[PATH_MAX];
    if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
    snprintf(url, sizeof url, "file://%s", real);
    curl_easy_options(url, content, sizeof content);
    curl_multi(url, content, sizeof content);
    curl_misc();
    crypto();
    tar();
    return check_report();
}
