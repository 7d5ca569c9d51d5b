/* reranking.c: placeholder until the reranking evaluator lands; says so plainly. */
#include "cmteb/evaluator.h"
#include "cmteb/status.h"

int cm_eval_reranking(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    (void)ctx;
    (void)scores;
    return cm_error(CM_ERR_UNSUPPORTED, "%s: the %s evaluator is not implemented in this build yet",
                    task->name, cm_task_type_name(task->type));
}
