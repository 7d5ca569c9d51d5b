#!/usr/bin/env python3
"""make_seeds.py: writes the seed corpora tests/fuzz/corpus/<parser>/ from
tests/fixtures and datasets/demo (small files only; the input layouts are in
the header comment of each tests/fuzz/fuzz_<parser>.c). Rerun after changing
a harness's input layout; the output is deterministic."""
import bz2, gzip, io, json, lzma, os, shutil, struct, sys, tarfile

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(SRC, 'tests', 'fuzz', 'corpus')
FIX = os.path.join(SRC, 'tests', 'fixtures')
DEMO = os.path.join(SRC, 'datasets', 'demo')


def rd(*p):
    path = os.path.join(*p)
    data = open(path, 'rb').read()
    return gzip.decompress(data) if path.endswith('.gz') else data


def head(data, n):
    return b''.join(data.splitlines(True)[:n])


def put(parser, name, data):
    d = os.path.join(OUT, parser)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def npy(shape, descr='<f4', esize=4, body=None):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    hl = len(h) + 1
    hl += (64 - (10 + hl) % 64) % 64
    hdr = b'\x93NUMPY\x01\x00' + struct.pack('<H', hl) + h.encode().ljust(hl - 1) + b'\n'
    if body is None:
        n = 1
        for x in shape.strip('()').split(','):
            if x.strip():
                n *= int(x)
        body = bytes(range(256)) * (n * esize // 256) + bytes(n * esize % 256)
    return hdr + body


def safetensors(header, data):
    h = json.dumps(header, separators=(',', ':')).encode()
    return struct.pack('<Q', len(h)) + h + data


def segment(keys_vecs, dim=4):
    out = b'CMTBEMB1' + struct.pack('<IIQ', 1, dim, len(keys_vecs))
    for k, _ in keys_vecs:
        out += struct.pack('<QQ', *k)
    for _, v in keys_vecs:
        out += struct.pack('<%df' % dim, *v)
    return out + b'\0' * 8   # checksum: the harness recomputes it when the control byte is odd


def lenparts(*parts):
    """The fz_split_len layout: len(parts) - 1 uint16 lengths, then the parts."""
    return b''.join(struct.pack('<H', len(x)) for x in parts[:-1]) + b''.join(parts)


def store(dim, rows, keys, tag=b'fuzz', cap=16):
    """A float32 vector store (engine/include/cmteb/store.h) as the fuzz_store
    input: control byte 3 (the harness fixes both checksums), head, keys.bin,
    index-1.bin holding every key, rows.bin."""
    head = b'CMTBSTO1' + struct.pack('<IIQQQQQQ', 1, 0, dim, len(rows), len(keys), 1, len(keys), len(tag)) + tag
    head += b'\0' * 8
    log = b''.join(struct.pack('<QQQ', lo, hi, r) for (lo, hi), r in keys)
    slots = [None] * cap
    for (lo, hi), r in keys:
        i = (lo ^ (hi >> 7)) & (cap - 1)
        while slots[i] is not None:
            i = (i + 1) & (cap - 1)
        slots[i] = (lo, hi, r + 1)
    idx = b'CMTBIDX1' + struct.pack('<QQQQ', cap, len(keys), len(keys), 0).ljust(56, b'\0')
    idx += b''.join(struct.pack('<QQQ', *(x or (0, 0, 0))) for x in slots)
    rws = b'CMTBROW1' + struct.pack('<IIQ', 0, 0, dim).ljust(56, b'\0')
    rws += b''.join(struct.pack('<%df' % dim, *v) for v in rows)
    return b'\3' + lenparts(head, log, idx, rws)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    rec = os.path.join(FIX, 'records')
    put('records', 'sts.jsonl', b'\0' + head(rd(DEMO, 'sts', 'test.jsonl'), 4))
    put('records', 'bad_line4.jsonl', b'\0' + rd(rec, 'bad_line4.jsonl'))
    put('records', 'wrong_types.jsonl', b'\0' + rd(rec, 'wrong_types.jsonl'))
    put('records', 'bad_item.json', b'\1' + rd(rec, 'bad_item.json'))
    put('records', 'array.json', b'\1[{"text": "a", "score": 1},\n {"text": "b\\u00e9", "score": "2.5"}]\n')
    put('records', 'bad_fields.csv', b'\2' + rd(rec, 'bad_fields.csv'))
    put('records', 'quoted.csv', b'\2text,score\n"a, ""quoted""\nline",1\nplain,2\n')
    put('records', 'qrels.tsv', b'\3' + rd(FIX, 'ranking', 'beir_tiny', 'qrels', 'test.tsv'))
    put('records', 'unclosed_quote.tsv', b'\3' + rd(rec, 'unclosed_quote.tsv'))
    put('records', 'sts.jsonl.gz', b'\4' + gzip.compress(head(rd(DEMO, 'sts', 'test.jsonl'), 3), mtime=0))
    put('records', 'quoted.csv.gz', b'\5' + gzip.compress(b'text,score\n"x\ty",3\n', mtime=0))

    put('npy', 'f4_3x4.npy', npy('(3, 4)'))
    put('npy', 'f2_2x3.npy', npy('(2, 3)', '<f2', 2))
    put('npy', 'empty_0x8.npy', npy('(0, 8)'))
    put('npy', 'pairclass.npy', rd(FIX, 'ranking', 'pairclass_e2e', 'model', 'embeddings.npy'))

    data = struct.pack('<6f', 1, -2, 3.5, 0.25, -0.125, 1e-3) + struct.pack('<2H', 0x3C00, 0xC000) + \
        struct.pack('<2H', 0x3FC0, 0xC0A0) + struct.pack('<q', 7)
    hdr = {'a.weight': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [0, 24]},
           'b': {'dtype': 'F16', 'shape': [2], 'data_offsets': [24, 28]},
           'c': {'dtype': 'BF16', 'shape': [2], 'data_offsets': [28, 32]},
           'd': {'dtype': 'I64', 'shape': [1], 'data_offsets': [32, 40]},
           '__metadata__': {'format': 'pt'}}
    put('safetensors', 'mixed.safetensors', safetensors(hdr, data))
    put('safetensors', 'scalar.safetensors',
        safetensors({'s': {'dtype': 'F32', 'shape': [], 'data_offsets': [0, 4]}}, struct.pack('<f', 2)))
    put('safetensors', 'empty.safetensors', safetensors({}, b''))

    hf = os.path.join(FIX, 'hf')
    put('tokenizer', 'bert_tiny.json', rd(hf, 'bert-tiny', 'tokenizer.json'))
    put('tokenizer', 'mpnet_tiny.json', rd(hf, 'mpnet-tiny', 'tokenizer.json'))
    for name in ('gpt2_style', 'mistral_small', 'qwen_small', 'split_variants'):
        put('tokenizer', name + '.json', rd(FIX, 'dec', 'tok', name + '.tokenizer.json'))
    for name in ('nfkd_unk', 'rules', 'nfkc_bytes'):   # Unigram models ('rules': a small Precompiled charsmap)
        put('tokenizer', 'unigram_' + name + '.json', rd(FIX, 'tok_unigram', name + '.tokenizer.json.gz'))

    st_files = ('config.json', 'modules.json', 'sentence_bert_config.json', '1_Pooling/config.json',
                'config_sentence_transformers.json')
    for model in ('hf/bert-tiny', 'hf/mpnet-tiny', 'hf/roberta-tiny', 'dec/llama_tiny', 'dec/qwen3_tiny',
                  'dec/nvembed_tiny'):
        d = os.path.join(FIX, model)
        parts = [rd(d, f) if os.path.exists(os.path.join(d, f)) else b'' for f in st_files]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        put('hf_config', model.replace('/', '_') + '.bin', b'\0'.join(parts))

    cat = os.path.join(SRC, 'datasets', 'catalog')
    for name in sorted(os.listdir(cat)):
        if name.startswith('demo'):
            put('task', name, rd(cat, name))
    put('task', 'msrp_task.json', rd(FIX, 'ranking', 'msrp_task.json'))

    base = os.path.join(FIX, 'results', 'check', 'baseline', 'cmteb-test__tiny-model', '1')
    put('results', 'current.bin', rd(base, 'STSBenchmark.json') + b'\0' + rd(base, 'model_meta.json') + b'\0' +
        rd(base, 'SciFact.json'))
    v1 = os.path.join(FIX, 'results', 'published', 'v1', 'NV-Embed-v1')
    put('results', 'v1.bin', rd(v1, 'STS22.json') + b'\0\0' + rd(v1, 'DBPedia.json'))

    seg = segment([((1, 2), (1, 2, 3, 4)), ((3, 4), (0.5, -0.5, 0, 1e-3))])
    put('embed_cache', 'valid.bin', b'\1' + seg)
    put('embed_cache', 'bad_sum.bin', b'\0' + seg)
    put('embed_cache', 'empty_seg.bin', b'\1' + segment([]))

    for name, d in (('beir_tiny', os.path.join(FIX, 'ranking', 'beir_tiny')), ('demo', os.path.join(DEMO, 'retrieval'))):
        put('beir', name + '.bin', b'\0'.join([rd(d, 'qrels', 'test.tsv'), head(rd(d, 'queries.jsonl'), 6),
                                                head(rd(d, 'corpus.jsonl'), 8)]))
    put('store', 'tiny.bin', store(4, [(1, 2, 3, 4), (0.5, -0.5, 0, 1e-3)], [((1, 2), 0), ((3, 4), 1), ((5, 6), 0)]))
    put('store', 'empty.bin', store(2, [], []))
    sto = os.path.join(FIX, 'ranking', 'pairclass_e2e', 'model', '.cmteb-store')
    put('store', 'pairclass.bin', b'\0' + lenparts(*[rd(sto, f) for f in ('head', 'keys.bin', 'index-1.bin',
                                                                         'rows.bin')]))

    put('hub', 'listing.bin', json.dumps([
        {'type': 'file', 'oid': 'a' * 40, 'size': 12, 'path': 'data/test.jsonl'},
        {'type': 'directory', 'oid': 'b' * 40, 'size': 0, 'path': 'data'},
        {'type': 'file', 'oid': 'c' * 40, 'size': 5, 'path': 'corpus.jsonl.gz',
         'lfs': {'oid': 'd' * 64, 'size': 99, 'pointerSize': 130}}]).encode() + b'\0data/test.jsonl')
    put('hub', 'link.bin', b'<https://huggingface.co/api/datasets/x/tree/main?cursor=abc>; rel="next", '
        b'<https://h/last>; rel="last"\0**/*.json[l]')
    put('hub', 'retry_date.bin', b'Wed, 21 Oct 2015 07:28:00 GMT\0a/b/c.txt')
    put('hub', 'retry_secs.bin', b'120\0**/test-*.parquet')
    put('hub', 'etag.bin', b'W/"0123456789abcdef0123456789abcdef01234567"\0data/*/x?.csv')
    put('hub', 'glob.bin', b'data/**/[!a-c]*.jsonl\0data/x/y/dev.jsonl')

    hits0 = (b'cmteb-shard-hits 1\nshard 0 2 docs 0 3 top_k 3 queries 2\n'
             b'q q1\t2\n0x1.8p-1\td2\n0x1p-2\td1\nq q2\t1\n-0x1p-3\td3\nend\n')
    hits1 = (b'cmteb-shard-hits 1\nshard 1 2 docs 3 5 top_k 3 queries 2\n'
             b'q q1\t2\n0x1.8p-1\td5\n0x1p-4\td4\nq q2\t0\nend\n')
    put('shard', 'two.bin', bytes([1 | 2 << 1 | 2 << 3]) + hits0 + b'\0' + hits1)
    put('shard', 'one.bin', bytes([2 << 1 | 2 << 3]) + hits0.replace(b'shard 0 2 docs 0 3', b'shard 0 1 docs 0 3'))

    t1 = safetensors({'a.weight': {'dtype': 'F32', 'shape': [2, 2], 'data_offsets': [0, 16]},
                      '__metadata__': {'format': 'pt'}}, struct.pack('<4f', 1, -2, 0.5, 3))
    t2 = safetensors({'b': {'dtype': 'F16', 'shape': [2], 'data_offsets': [0, 4]},
                      'c': {'dtype': 'BF16', 'shape': [1], 'data_offsets': [4, 6]}},
                     struct.pack('<3H', 0x3C00, 0xC000, 0x3FC0))
    index = json.dumps({'metadata': {'total_size': 22},
                        'weight_map': {'a.weight': 'model-1.safetensors', 'b': 'model-2.safetensors',
                                       'c': 'model-2.safetensors'}}).encode()
    put('st_index', 'two_shards.bin', lenparts(index, t1, t2))
    put('st_index', 'one_shard.bin', lenparts(json.dumps({'weight_map': {'a.weight': 'model-1.safetensors'}}).encode(),
                                              t1, b''))

    # tar: control byte (bit 0: the harness gzips, bit 1: 64-byte cap), then lenparts(member, archive)
    mtar = rd(FIX, 'formats', 'massive', 'amazon-massive-dataset-1.0.tar.gz')   # decompressed: the plain tar
    put('tar', 'massive.bin', b'\0' + lenparts(b'', mtar))
    put('tar', 'massive_gz.bin', b'\1' + lenparts(b'1.0/data/de-DE.jsonl', mtar))
    put('tar', 'massive_cap.bin', b'\2' + lenparts(b'1.0/data/en-US.jsonl', mtar))
    put('tar', 'massive_dir.bin', b'\0' + lenparts(b'1.0/data/', mtar))
    put('tar', 'massive_absent.bin', b'\0' + lenparts(b'1.0/data/fr-FR.jsonl', mtar))
    put('tar', 'massive_bz2.bin', b'\0' + lenparts(b'1.0/LICENSE', bz2.compress(mtar, 9)))
    put('tar', 'massive_xz.bin', b'\0' + lenparts(b'1.0/LICENSE', lzma.compress(mtar)))

    # script_rows: control byte (low bits: 0 counterfactual TSV, 1 MASSIVE member, 2 reader spec), then the input
    put('script_rows', 'counterfactual.bin', b'\0' + b'sentence\tis_counterfactual\nplain text\t0\n'
        b'"quoted ""x"", y"\t1\nbad\t2\n')
    put('script_rows', 'counterfactual_ok.bin', b'\0' + b'sentence\tis_counterfactual\nI wish I had gone\t1\n'
        b'It rained\t0\n')
    with tarfile.open(fileobj=io.BytesIO(mtar)) as t:
        en_us = t.extractfile('1.0/data/en-US.jsonl').read()
        de_de = t.extractfile('1.0/data/de-DE.jsonl').read()
    put('script_rows', 'massive_test_intent.bin', bytes([1 | 2 << 3]) + en_us)
    put('script_rows', 'massive_train_scenario_gz.bin', bytes([1 | 4 | 0 << 3 | 32]) + en_us)
    put('script_rows', 'massive_dev_de.bin', bytes([1 | 1 << 3]) + de_de)
    put('script_rows', 'spec_intent.bin', b'\2massive:en-US:test:intent')
    put('script_rows', 'spec_scenario.bin', b'\2massive:en-US:test:scenario')
    put('script_rows', 'spec_bad.bin', b'\2massive:en-US/..:test:intent')
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print('make_seeds: %d bytes under %s' % (total, OUT), file=sys.stderr)


if __name__ == '__main__':
    main()
