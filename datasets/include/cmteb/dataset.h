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
 * Finds what holds a split in a hub download folder (DIR: the repository's
 * root). Tries, in order, DIR/SUBSET/SPLIT.EXT and DIR/data/SUBSET/SPLIT.EXT
 * (when subset is set), then DIR/SPLIT.EXT and DIR/data/SPLIT.EXT, each also
 * as SPLIT-*.EXT shards (the first in name order), where EXT is jsonl,
 * jsonl.gz, json, json.gz, csv, csv.gz, tsv, tsv.gz, and parquet when no
 * other format is there (a split of several parquet shards is an error).
 * Then the layouts the pinned revisions define by loading scripts:
 *   - DIR/data/{EN,DE,JP,EN-ext}_{train,valid,test}.tsv for subsets en, de,
 *     ja, en-ext (mteb/amazon_counterfactual; "validation" is "valid");
 *   - DIR/amazon-massive-dataset-1.0.tar.gz (mteb/amazon_massive_intent and
 *     _scenario): member 1.0/data/LOCALE.jsonl (subset en -> en-US, ...),
 *     partition train/dev/test for train/validation/test; intent or scenario
 *     labels by the loading script beside it (amazon_massive_intent.py or
 *     amazon_massive_scenario.py) or the folder's name.
 * For those, *path is a locator FILE#cmteb:READER (READER
 * "amazon_counterfactual" or "massive:LOCALE:PARTITION:intent|scenario")
 * that cm_data_open reads. *path is allocated; caller frees.
 */
int cm_data_find_split(const char *dir, const char *subset, const char *split, char **path);

/*
 * Opens what cm_data_find_split returned (or any data file path): a locator's
 * loading-script rows, a parquet file (through DuckDB, loaded at run time:
 * an error says how to install it when missing), else cm_records_open. Rows
 * of every source are JSON objects; parquet rows carry every column (lists as
 * arrays) and their line is the 1-based row number. The caller closes *out
 * with cm_records_close.
 */
int cm_data_open(cm_records **out, const char *where);

#ifdef __cplusplus
}
#endif
#endif
