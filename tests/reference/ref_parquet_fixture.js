// ref_parquet_fixture.js: writes the parquet fixtures of tests/unit/test_formats.c with DuckDB
// (the reference writer; DuckDB's Node API from third_party/duckdb, installed by scripts/setup.sh).
//
//   node tests/reference/ref_parquet_fixture.js
//
// From tests/fixtures/formats/summeval_like.jsonl (SummEval's columns: list<string> summaries,
// list<double> scores, text, id) it writes, in the same folder:
//   summeval_like.zstd.parquet    ZSTD pages, DuckDB's default encodings
//   summeval_like.snappy.parquet  SNAPPY pages, 2 rows per row group (several row groups)
// The test checks the C loader gives the same rows from each parquet file as from the jsonl.
const path = require("path");
const { DuckDBInstance } = require(path.join(__dirname, "../../third_party/duckdb/node_modules/@duckdb/node-api"));

async function main() {
  const dir = path.join(__dirname, "../fixtures/formats");
  const src = path.join(dir, "summeval_like.jsonl").replace(/'/g, "''");
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  const cols = "{machine_summaries: 'VARCHAR[]', human_summaries: 'VARCHAR[]', relevance: 'DOUBLE[]', " +
               "coherence: 'DOUBLE[]', fluency: 'DOUBLE[]', consistency: 'DOUBLE[]', text: 'VARCHAR', id: 'VARCHAR'}";
  const sel = `SELECT * FROM read_json('${src}', format='newline_delimited', columns=${cols})`;
  await con.run(`COPY (${sel}) TO '${path.join(dir, "summeval_like.zstd.parquet")}' (FORMAT parquet, COMPRESSION zstd)`);
  await con.run(`COPY (${sel}) TO '${path.join(dir, "summeval_like.snappy.parquet")}' ` +
                `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 2)`);
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${path.join(dir, "*.parquet")}')`);
  console.log("rows written (both files):", r.getRowObjects()[0].n.toString());
}
main().catch((e) => { console.error(e); process.exit(1); });
