/* registry.c: task type -> evaluator. */
#include "cmteb/evaluator.h"

#include <math.h>

cm_evaluate_fn cm_evaluator_for(cm_task_type t) {
    switch (t) {
    case CM_TASK_CLASSIFICATION:     return cm_eval_classification;
    case CM_TASK_CLUSTERING:         return cm_eval_clustering;
    case CM_TASK_PAIRCLASSIFICATION: return cm_eval_pairclassification;
    case CM_TASK_RERANKING:          return cm_eval_reranking;
    case CM_TASK_RETRIEVAL:          return cm_eval_retrieval;
    case CM_TASK_STS:                return cm_eval_sts;
    case CM_TASK_SUMMARIZATION:      return cm_eval_summarization;
    default:                         return 0;
    }
}

/* Python's round(x, 5) on the double x: round half to even on the exact
 * decimal value. Formatting with %.5f rounds the exact binary value
 * correctly, which is what Python does. */
#include <stdio.h>
#include <stdlib.h>
double cm_round5(double x) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.5f", x);
    return strtod(buf, NULL);
}
