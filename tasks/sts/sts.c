/* sts.c: placeholder. */
#include "cmteb/evaluator.h"
#include "cmteb/status.h"
int cm_eval_sts(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    (void)ctx; (void)scores;
    return cm_error(CM_ERR_UNSUPPORTED, "%s: STS not implemented yet", task->name);
}
