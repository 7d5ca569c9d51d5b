#!/usr/bin/python3
"""pretrain_tiny.py: pretrains a tiny BERT backbone on the shared data for `cmteb train-pooler` (issue #17).

The evidence the issue asks for needs a backbone whose token states mean something; no package ships a small
trained transformer embedder, so this script makes one: a BERT (default 4 layers x 256, 4 heads, FFN 1024,
256 positions, the bert-base-uncased vocabulary) trained from a fixed seed on CPU with Debian's python3-torch:

  masked-language modelling (15% of word pieces; 80/10/10 mask/random/keep) on every text below, plus an
  InfoNCE term (mean pooling, cosine / 0.05, in-batch negatives) on unsupervised pairs: SimCSE dropout
  pairs of short texts and two random crops of one long text (Contriever-style).

Text used (none of it a test split that cmteb evaluates; SciFact queries are not used at all):
  SciFact corpus (title + abstract), STS Benchmark train sentences, Banking77 train texts, Amazon
  counterfactual (en) train texts, the 20 Newsgroups mini sample (subjects and bodies), MSRP train sentences.

Writes a Hugging Face folder that `cmteb run --model hf:OUT` loads: config.json, model.safetensors (F32,
BertModel names), vocab.txt, tokenizer.json, modules.json, 1_Pooling/config.json (mean),
sentence_bert_config.json, plus pretrain_log.tsv and pretrain.json (the recipe and losses).

  /usr/bin/python3 tests/reference/pretrain_tiny.py --data ../shared/data --out /work/tiny-bert

Tokenization is BERT's uncased WordPiece written out here (BasicTokenizer + greedy longest-match). `--verify BIN`
(no training) checks a written folder against a cmteb binary: `tokenize` ids equal this tokenizer's and `embed`
(mean pooling, not normalised) equals this model's forward pass, on 500 of the texts.
"""
import argparse
import gzip
import json
import math
import os
import random
import struct
import subprocess
import sys
import time
import unicodedata

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TOK_DIR = os.path.join(HERE, "..", "fixtures", "hf", "bert-uncased-tok")
PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103


# ---- tokenizer (bert-base-uncased: BertNormalizer lowercase + strip accents, BertPreTokenizer, WordPiece) ----

def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or
            0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or
            0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    def __init__(self, vocab_lines):
        self.vocab = {w: i for i, w in enumerate(vocab_lines)}
        self.memo = {}   # word -> piece ids (words repeat a lot)

    def _basic(self, text):
        if text.isascii() and text.isprintable():   # fast path: no control, CJK or accented characters
            return self._split(text.lower())
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD:
                continue
            cat = unicodedata.category(ch)
            if ch in "\t\n\r" or cat == "Zs" or ch == " ":
                out.append(" ")
            elif cat in ("Cc", "Cf"):
                continue
            elif _is_cjk(cp):
                out.append(" " + ch + " ")
            else:
                out.append(ch)
        text = "".join(out).lower()
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        return self._split(text)

    @staticmethod
    def _split(text):
        """Whitespace, then punctuation split off as single characters."""
        words = []
        for w in text.split():
            cur = ""
            for ch in w:
                if _is_punct(ch):
                    if cur:
                        words.append(cur)
                    words.append(ch)
                    cur = ""
                else:
                    cur += ch
            if cur:
                words.append(cur)
        return words

    def encode(self, text):
        """Word-piece ids of text, without [CLS]/[SEP]."""
        ids = []
        for w in self._basic(text):
            hit = self.memo.get(w)
            if hit is not None:
                ids.extend(hit)
                continue
            if len(w) > 100:
                ids.append(UNK)
                continue
            start, pieces = 0, []
            while start < len(w):
                end, found = len(w), None
                while start < end:
                    sub = w[start:end] if start == 0 else "##" + w[start:end]
                    if sub in self.vocab:
                        found = self.vocab[sub]
                        break
                    end -= 1
                if found is None:
                    pieces = [UNK]
                    break
                pieces.append(found)
                start = end
            self.memo[w] = pieces
            ids.extend(pieces)
        return ids


# ---- data ------------------------------------------------------------------------------------------------

def _jsonl(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_texts(data):
    """(short texts, long texts) from the training-only sources; every source must exist."""
    short, long_ = [], []
    sc = os.path.join(data, "mteb", "scifact", "corpus.jsonl")
    for o in _jsonl(sc):
        long_.append((o.get("title", "") + " " + o["text"]).strip())
        if o.get("title"):
            short.append(o["title"])
    for o in _jsonl(os.path.join(data, "mteb", "stsbenchmark-sts", "train.jsonl.gz")):
        short += [o["sentence1"], o["sentence2"]]
    for o in _jsonl(os.path.join(data, "mteb", "banking77", "train.jsonl")):
        short.append(o["text"])
    for o in _jsonl(os.path.join(data, "mteb", "amazon_counterfactual", "en", "train.jsonl")):
        short.append(o["text"])
    for o in _jsonl(os.path.join(data, "extra", "twentynewsgroups_mini", "posts.jsonl")):
        short.append(o["subject"])
        if o["body"].strip():
            long_.append(o["body"])
    with open(os.path.join(data, "extra", "msrp", "train.jsonl"), encoding="utf-8") as f:
        m = json.load(f)
    short += m["sent1"] + m["sent2"]
    dedup = lambda xs: list(dict.fromkeys(x for x in xs if x.strip()))
    return dedup(short), dedup(long_)


def chunks(ids, n):
    return [ids[i:i + n] for i in range(0, len(ids), n)] if ids else []


# ---- model (HF BertModel semantics and parameter names) ---------------------------------------------------

class Bert(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, ff, V, P = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["max_position_embeddings"]
        self.cfg = cfg
        self.nh = cfg["num_attention_heads"]
        self.word = torch.nn.Embedding(V, d)
        self.pos = torch.nn.Embedding(P, d)
        self.typ = torch.nn.Embedding(cfg["type_vocab_size"], d)
        self.eln = torch.nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        L = cfg["num_hidden_layers"]
        mk = lambda i, o: torch.nn.ModuleList(torch.nn.Linear(i, o) for _ in range(L))
        self.q, self.k, self.v, self.ao = mk(d, d), mk(d, d), mk(d, d), mk(d, d)
        self.aln = torch.nn.ModuleList(torch.nn.LayerNorm(d, eps=cfg["layer_norm_eps"]) for _ in range(L))
        self.fi, self.fo = mk(d, ff), mk(ff, d)
        self.oln = torch.nn.ModuleList(torch.nn.LayerNorm(d, eps=cfg["layer_norm_eps"]) for _ in range(L))
        # MLM head (not exported): transform + tied decoder
        self.mt = torch.nn.Linear(d, d)
        self.mln = torch.nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.mbias = torch.nn.Parameter(torch.zeros(V))
        self.drop = torch.nn.Dropout(cfg["hidden_dropout_prob"])
        for m in self.modules():   # BERT's init: N(0, 0.02), LN 1/0, biases 0
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                torch.nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.zeros_(m.bias)

    def forward(self, ids, mask):
        """ids, mask (B, T) -> hidden (B, T, d)."""
        B, T = ids.shape
        d = self.cfg["hidden_size"]
        hd = d // self.nh
        pos = torch.arange(T).unsqueeze(0)
        x = self.drop(self.eln(self.word(ids) + self.pos(pos) + self.typ(torch.zeros_like(ids))))
        bias = (1.0 - mask[:, None, None, :].float()) * -1e4
        for i in range(len(self.q)):
            sh = lambda t: t.view(B, T, self.nh, hd).transpose(1, 2)
            q, k, v = sh(self.q[i](x)), sh(self.k[i](x)), sh(self.v[i](x))
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1)
            a = self.drop(a)
            c = (a @ v).transpose(1, 2).reshape(B, T, d)
            x = self.aln[i](x + self.drop(self.ao[i](c)))
            x = self.oln[i](x + self.drop(self.fo[i](F.gelu(self.fi[i](x)))))
        return x

    def mlm_logits(self, h):
        return self.mln(F.gelu(self.mt(h))) @ self.word.weight.t() + self.mbias

    def export(self):
        """BertModel state dict names -> float32 tensors."""
        out = {
            "embeddings.word_embeddings.weight": self.word.weight,
            "embeddings.position_embeddings.weight": self.pos.weight,
            "embeddings.token_type_embeddings.weight": self.typ.weight,
            "embeddings.LayerNorm.weight": self.eln.weight, "embeddings.LayerNorm.bias": self.eln.bias,
        }
        for i in range(len(self.q)):
            p = "encoder.layer.%d." % i
            for name, m in (("attention.self.query", self.q[i]), ("attention.self.key", self.k[i]),
                            ("attention.self.value", self.v[i]), ("attention.output.dense", self.ao[i]),
                            ("intermediate.dense", self.fi[i]), ("output.dense", self.fo[i]),
                            ("attention.output.LayerNorm", self.aln[i]), ("output.LayerNorm", self.oln[i])):
                out[p + name + ".weight"] = m.weight
                out[p + name + ".bias"] = m.bias
        return {k: v.detach().float().contiguous() for k, v in out.items()}


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        b = tensors[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


# ---- batches -----------------------------------------------------------------------------------------------

def pad(seqs):
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def mask_tokens(ids, mask, rng, V, p=0.15):
    """BERT masking: labels -100 except the chosen pieces (never [CLS]/[SEP]/[PAD])."""
    special = (ids == CLS) | (ids == SEP) | (mask == 0)
    prob = torch.rand(ids.shape, generator=rng)
    chosen = (prob < p) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape, generator=rng)
    inp = ids.clone()
    inp[chosen & (r < 0.8)] = MASK
    rnd = chosen & (r >= 0.8) & (r < 0.9)
    inp[rnd] = torch.randint(999, V, ids.shape, generator=rng)[rnd]   # ids >= 999: real word pieces
    return inp, labels


def mean_pool(h, mask):
    m = mask.unsqueeze(-1).float()
    return (h * m).sum(1) / m.sum(1).clamp(min=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the shared data folder (holds mteb/ and extra/)")
    ap.add_argument("--out", required=True, help="the model folder to write (outside the repository)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--positions", type=int, default=256)
    ap.add_argument("--steps", type=int, default=450)
    ap.add_argument("--mlm-batch", type=int, default=16, help="MLM sequences per step")
    ap.add_argument("--mlm-len", type=int, default=128,
                    help="longest MLM sequence (word pieces + 2); also the max_seq_length written")
    ap.add_argument("--long-every", type=int, default=0,
                    help="every Nth step's MLM batch uses up to --positions (0: never; max_seq_length then "
                    "stays --mlm-len)")
    ap.add_argument("--cl-batch", type=int, default=32, help="contrastive pairs per step (0: MLM only)")
    ap.add_argument("--cl-weight", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=8e-4)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a shared 2-core machine two threads ran slower)")
    ap.add_argument("--token-cache", help="a file to keep the tokenized texts in between runs (torch.save)")
    ap.add_argument("--verify", metavar="CMTEB",
                    help="no training: check the folder --out against this cmteb binary (tokenizer ids, forward)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rnd = random.Random(args.seed)
    rng = torch.Generator().manual_seed(args.seed)
    with gzip.open(os.path.join(TOK_DIR, "vocab.txt.gz"), "rt", encoding="utf-8") as f:
        vocab = f.read().split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    tok = WordPiece(vocab)
    V = len(vocab)
    t0 = time.time()
    short, long_ = load_texts(args.data)
    if args.verify:
        sample = random.Random(7)
        ok = verify(args.verify, args.out, sample.sample(short, 400) + sample.sample(long_, 100))
        sys.exit(0 if ok else 1)
    if args.token_cache and os.path.exists(args.token_cache):
        short_ids, long_ids = torch.load(args.token_cache)
    else:
        short_ids = [s for s in (tok.encode(t)[:62] for t in short) if len(s) >= 3]
        long_ids = [tok.encode(t) for t in long_]
        if args.token_cache:
            torch.save((short_ids, long_ids), args.token_cache)
    n_pieces = sum(map(len, short_ids)) + sum(map(len, long_ids))
    print("texts: %d short, %d long, %d word pieces; tokenized in %.0fs" %
          (len(short_ids), len(long_ids), n_pieces, time.time() - t0), file=sys.stderr)
    # MLM pool: chunks of long texts at two lengths, short texts whole
    mlm_short = [[CLS] + c + [SEP] for ids in long_ids for c in chunks(ids, args.mlm_len - 2)]
    mlm_short += [[CLS] + s + [SEP] for s in short_ids]
    mlm_long = [[CLS] + c + [SEP] for ids in long_ids for c in chunks(ids, args.positions - 2) if len(c) > 64]
    long_pool = [ids for ids in long_ids if len(ids) >= 48]

    cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": V, "hidden_size": args.hidden,
           "num_hidden_layers": args.layers, "num_attention_heads": args.heads, "intermediate_size": args.ffn,
           "max_position_embeddings": args.positions, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
           "pad_token_id": 0, "type_vocab_size": 2, "position_embedding_type": "absolute",
           "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "torch_dtype": "float32",
           "_name_or_path": "cmteb-pretrain/tiny-bert-uncased-%dx%d" % (args.layers, args.hidden)}
    model = Bert(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / args.warmup, max(0.0, (args.steps - s) / max(1, args.steps - args.warmup))))
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "pretrain_log.tsv"), "w")
    log.write("step\tmlm_loss\tcl_loss\tseconds\n")
    model.train()
    t_train = time.time()
    hist = []
    for step in range(args.steps):
        pool, L = (mlm_long, args.positions) if args.long_every and step % args.long_every == args.long_every - 1 \
            else (mlm_short, args.mlm_len)
        nb = args.mlm_batch if L == args.mlm_len else max(4, args.mlm_batch * args.mlm_len // args.positions)
        ids, mask = pad([pool[rnd.randrange(len(pool))] for _ in range(nb)])
        inp, labels = mask_tokens(ids, mask, rng, V)
        h = model(inp, mask)
        sel = labels != -100
        mlm = F.cross_entropy(model.mlm_logits(h[sel]), labels[sel])
        cl = torch.zeros(())
        if args.cl_batch:
            a, b = [], []
            for j in range(args.cl_batch):
                if j % 2 == 0:   # SimCSE: the same short text twice, different dropout
                    s = short_ids[rnd.randrange(len(short_ids))]
                    a.append([CLS] + s + [SEP])
                    b.append([CLS] + s + [SEP])
                else:            # two random crops of one long text
                    ids_ = long_pool[rnd.randrange(len(long_pool))]
                    for side in (a, b):
                        n = rnd.randint(16, min(62, len(ids_)))
                        st = rnd.randrange(len(ids_) - n + 1)
                        side.append([CLS] + ids_[st:st + n] + [SEP])
            ia, ma = pad(a)
            ib, mb = pad(b)
            ea = F.normalize(mean_pool(model(ia, ma), ma), dim=-1)
            eb = F.normalize(mean_pool(model(ib, mb), mb), dim=-1)
            logits = ea @ eb.t() / 0.05
            tgt = torch.arange(len(a))
            cl = 0.5 * (F.cross_entropy(logits, tgt) + F.cross_entropy(logits.t(), tgt))
        loss = mlm + args.cl_weight * cl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        hist.append((mlm.item(), cl.item()))
        log.write("%d\t%.4f\t%.4f\t%.1f\n" % (step + 1, mlm.item(), cl.item(), time.time() - t_train))
        if (step + 1) % 50 == 0 or step == 0:
            w = hist[-50:]
            print("step %d/%d  mlm %.3f  cl %.3f  %.0fs" % (step + 1, args.steps, sum(x[0] for x in w) / len(w),
                  sum(x[1] for x in w) / len(w), time.time() - t_train), file=sys.stderr, flush=True)
            log.flush()
    log.close()
    secs = time.time() - t_train
    save(model, cfg, vocab, args, hist, secs, len(short_ids), len(long_ids), n_pieces)


def save(model, cfg, vocab, args, hist, secs, n_short, n_long, n_pieces):
    out = args.out
    write_safetensors(os.path.join(out, "model.safetensors"), model.export())
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    with gzip.open(os.path.join(TOK_DIR, "tokenizer.json.gz"), "rb") as f, \
            open(os.path.join(out, "tokenizer.json"), "wb") as g:
        g.write(f.read())
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    with open(os.path.join(out, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": args.hidden, "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                   "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
                   "pooling_mode_lasttoken": False, "include_prompt": True}, f, indent=2)
    with open(os.path.join(out, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}],
                  f, indent=2)
    with open(os.path.join(out, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": args.positions if args.long_every else args.mlm_len, "do_lower_case": False},
                  f, indent=2)
    avg = lambda xs: sum(xs) / max(1, len(xs))
    first, last = hist[:50], hist[-50:]
    with open(os.path.join(out, "pretrain.json"), "w") as f:
        json.dump({"recipe": vars(args), "torch": torch.__version__, "seconds": round(secs, 1),
                   "texts_short": n_short, "texts_long": n_long, "word_pieces": n_pieces,
                   "parameters_exported": sum(t.numel() for t in model.export().values()),
                   "mlm_loss_first50": avg([x[0] for x in first]), "mlm_loss_last50": avg([x[0] for x in last]),
                   "cl_loss_first50": avg([x[1] for x in first]), "cl_loss_last50": avg([x[1] for x in last])},
                  f, indent=2)
    print("wrote %s (%.0fs of training)" % (out, secs), file=sys.stderr)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(v["shape"])
    return out


def verify(binary, out, texts):
    """Checks the written folder against cmteb: `tokenize --json --no-special` ids equal this tokenizer's,
    and `embed --no-normalize` (mean pooling) equals this model's forward pass (eval mode) to 1e-4."""
    import numpy
    cfg = json.load(open(os.path.join(out, "config.json")))
    model = Bert(cfg)
    st = read_safetensors(os.path.join(out, "model.safetensors"))
    for name, t in model.export().items():   # export() returns detached views of the same storage
        t.copy_(st[name])
    model.eval()
    vocab = open(os.path.join(out, "vocab.txt"), encoding="utf-8").read().split("\n")[:-1]
    tok = WordPiece(vocab)
    texts = [t.replace("\n", " ").replace("\r", " ") for t in texts]
    inp = os.path.join(out, "verify_texts.txt")
    npy = os.path.join(out, "verify_vectors.npy")
    with open(inp, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    r = subprocess.run([binary, "tokenize", "--model", "hf:" + out, "--input", inp, "--json", "--no-special"],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit("cmteb tokenize failed: " + r.stderr)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    same = sum(o["ids"] == tok.encode(t) for t, o in zip(texts, lines))
    print("tokenizer: %d of %d texts give cmteb's ids" % (same, len(texts)))
    r = subprocess.run([binary, "embed", "--model", "hf:" + out, "--input", inp, "--output", npy,
                        "--no-normalize", "--quiet"], capture_output=True, text=True)
    if r.returncode:
        sys.exit("cmteb embed failed: " + r.stdout + r.stderr)
    got = torch.from_numpy(numpy.load(npy))
    maxlen = json.load(open(os.path.join(out, "sentence_bert_config.json")))["max_seq_length"]
    worst = 0.0
    with torch.no_grad():
        for i, t in enumerate(texts):
            ids = [CLS] + tok.encode(t)[:maxlen - 2] + [SEP]
            x = torch.tensor([ids])
            ref = mean_pool(model(x, torch.ones_like(x)), torch.ones_like(x))[0]
            worst = max(worst, ((ref - got[i]).abs().max() / ref.abs().max()).item())
    print("forward: max relative difference %.2e over %d texts (cmteb embed vs torch)" % (worst, len(texts)))
    os.remove(inp)
    os.remove(npy)
    return same == len(texts) and worst < 1e-4


if __name__ == "__main__":
    main()
