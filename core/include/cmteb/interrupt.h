/*
 * interrupt.h: graceful stop on SIGINT/SIGTERM. The first signal sets a
 * flag that long loops (the embedder, between encoder calls) check: the run
 * then stops with CM_ERR_INTERRUPTED after saving the embedding cache. A
 * second signal ends the process at once, and so does the end of a grace
 * period after the first (60 seconds, or $CMTEB_STOP_GRACE read at install;
 * exit status 130), so that a process stuck
 * where no loop checks the flag still stops on one SIGTERM (timeout(1)).
 */
#ifndef CMTEB_EVAL_INTERRUPT_H
#define CMTEB_EVAL_INTERRUPT_H

void cm_interrupt_install(void);
int  cm_interrupted(void);

#endif
