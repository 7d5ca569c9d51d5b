/*
 * interrupt.h: graceful stop on SIGINT/SIGTERM. The first signal sets a
 * flag that long loops (the embedder, between encoder calls) check: the run
 * then stops with CM_ERR_INTERRUPTED after saving the embedding cache. A
 * second signal ends the process at once.
 */
#ifndef CMTEB_EVAL_INTERRUPT_H
#define CMTEB_EVAL_INTERRUPT_H

void cm_interrupt_install(void);
int  cm_interrupted(void);

#endif
