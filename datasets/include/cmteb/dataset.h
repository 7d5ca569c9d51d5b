/*
 * dataset.h: the hub layouts MTEB datasets come in (the records of each file
 * are read with records.h).
 */
#ifndef CMTEB_DATASET_H
#define CMTEB_DATASET_H

#include "cmteb/records.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Finds the file holding a split in a hub download folder. Tries, in order,
 * DIR/SUBSET/SPLIT.{jsonl,jsonl.gz,json,json.gz,csv,tsv,...} (when subset is
 * set) then DIR/SPLIT.*, DIR/data/SPLIT.*, DIR/data/SPLIT-*.{jsonl,...}. If only
 * parquet files are found the error says parquet is not supported yet and
 * how to convert. *path is allocated; caller frees.
 */
int cm_data_find_split(const char *dir, const char *subset, const char *split, char **path);

#ifdef __cplusplus
}
#endif
#endif
