/* registry.c: the evaluator table and the run options' defaults (see evaluator.h). */
#include "cmteb/evaluator.h"

#include <stdio.h>
#include <stdlib.h>

static const cm_evaluator_i evaluators[CM_TASK_TYPE_COUNT] = {
    {CM_TASK_CLASSIFICATION, &cm_task_types[CM_TASK_CLASSIFICATION], cm_eval_classification},
    {CM_TASK_CLUSTERING, &cm_task_types[CM_TASK_CLUSTERING], cm_eval_clustering},
    {CM_TASK_PAIRCLASSIFICATION, &cm_task_types[CM_TASK_PAIRCLASSIFICATION], cm_eval_pairclassification},
    {CM_TASK_RERANKING, &cm_task_types[CM_TASK_RERANKING], cm_eval_reranking},
    {CM_TASK_RETRIEVAL, &cm_task_types[CM_TASK_RETRIEVAL], cm_eval_retrieval},
    {CM_TASK_STS, &cm_task_types[CM_TASK_STS], cm_eval_sts},
    {CM_TASK_SUMMARIZATION, &cm_task_types[CM_TASK_SUMMARIZATION], cm_eval_summarization},
};

const cm_evaluator_i *cm_evaluator_for(cm_task_type t) {
    return (unsigned)t < CM_TASK_TYPE_COUNT ? &evaluators[t] : NULL;
}

cm_eval_options cm_eval_default_options(void) {
    cm_eval_options o = {0};
    o.clustering_protocol = -1;
    return o;
}

/* Python's round(x, 5) on the double x: round half to even on the exact
 * decimal value. Formatting with %.5f rounds the exact binary value
 * correctly, which is what Python does. */
double cm_round5(double x) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.5f", x);
    return strtod(buf, NULL);
}
