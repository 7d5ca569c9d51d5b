/*
 * cmteb.h: the whole public API of libcmteb, layer by layer (README.md
 * "Architecture"). Include the single headers instead where only one layer
 * is needed.
 */
#ifndef CMTEB_H
#define CMTEB_H

/* core: status codes and errors, memory, strings, files, records, logging */
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "cmteb/records.h"
#include "cmteb/interrupt.h"
#include "cmteb/progress.h"
/* engine: model specs -> encoders */
#include "cmteb/encoder.h"
#include "cmteb/store.h"
#include "cmteb/pooler_train.h"
/* embedding: the embedder and its cache; variants of one model sharing a forward pass */
#include "cmteb/embedder.h"
#include "cmteb/variants.h"
/* datasets: the task catalog and the hub layouts */
#include "cmteb/task.h"
#include "cmteb/dataset.h"
/* tasks: the evaluators */
#include "cmteb/evaluator.h"
/* reports: results files, reports, regression checks */
#include "cmteb/results.h"
#include "cmteb/results_read.h"
#include "cmteb/bootstrap.h"
#include "cmteb/report.h"
#include "cmteb/check.h"

#endif
