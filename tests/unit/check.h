/*
 * check.h: the tiny test framework every tests/unit program uses.
 *
 * CHECK(cond) and CHECK_NEAR(a, b, tol) count failures and print file:line
 * with the values; CHECK_OK(expr) expects CM_OK and prints the last error.
 * SKIP(why) exits 77 (ctest marks the test skipped). check_report() prints
 * "N passed, N failed" and returns the exit status for main.
 */
#ifndef CMTEB_TEST_CHECK_H
#define CMTEB_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmteb/status.h"

static int check_passed_, check_failed_;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) check_passed_++;                                                   \
        else { check_failed_++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                        \
    do {                                                                             \
        double ca_ = (double)(a), cb_ = (double)(b);                                 \
        if (fabs(ca_ - cb_) <= (tol) || (isnan(ca_) && isnan(cb_))) check_passed_++; \
        else { check_failed_++; fprintf(stderr, "%s:%d: %s = %.10g, expected %s = %.10g (tol %g)\n", \
                                        __FILE__, __LINE__, #a, ca_, #b, cb_, (double)(tol)); } \
    } while (0)

#define CHECK_OK(expr)                                                               \
    do {                                                                             \
        int crc_ = (expr);                                                           \
        if (crc_ == CM_OK) check_passed_++;                                          \
        else { check_failed_++; fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, crc_, cm_last_error()); } \
    } while (0)

#define SKIP(why)                                                                    \
    do { printf("SKIP: %s\n", why); exit(77); } while (0)

static inline int check_report(void) {
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

/* The environment ctest sets (CMTEB_SRC, CMTEB_SHARED, CMTEB_TMP, CMTEB_BIN). */
static inline const char *check_env(const char *name) {
    const char *v = getenv(name);
    return v ? v : "";
}

#endif
