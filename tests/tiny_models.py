"""Build tiny sentence-transformers models locally, in seconds, for tests (no download).

- ``build_tiny_bert``: a 2-layer, 32-wide BERT over a WordPiece tokenizer trained on given texts, with mean
  pooling and saved prompts ``{"query": "query: ", "passage": "passage: "}``.
- ``seed_passages``: the shipped seed documents as "《title》 text" passages (paragraph-sized).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus"
TINY_PROMPTS = {"query": "query: ", "passage": "passage: "}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def seed_passages(min_chars: int = 30, max_chars: int = 500) -> tuple[list[str], list[str]]:
    """The seed documents split into paragraph passages prefixed with their document title.

    Args:
        min_chars: short lines (headings) are merged into the next paragraph until this length.
        max_chars: longer paragraphs are cut at this length.

    Returns:
        (passages, titles): each passage is ``"《title》 text"`` and its title string is ``"《title》"``.
    """
    sources = json.loads((CORPUS_DIR / "sources.json").read_text(encoding="utf-8"))
    passages, titles = [], []
    for source in sources:
        title = f"《{source['description'].replace(' 及印发通知', '')}》"
        pending = ""
        for line in (CORPUS_DIR / source["file"]).read_text(encoding="utf-8").splitlines():
            pending = f"{pending} {line.strip()}".strip()
            if len(pending) < min_chars:
                continue
            for start in range(0, len(pending), max_chars):
                passages.append(f"{title} {pending[start:start + max_chars]}")
                titles.append(title)
            pending = ""
        if pending:
            passages.append(f"{title} {pending}")
            titles.append(title)
    return passages, titles


def build_tiny_bert(texts: list[str], out_dir: Path, *, hidden: int = 32, layers: int = 2, heads: int = 2,
                    vocab_size: int = 3000, seed: int = 0, prompts: dict[str, str] | None = None) -> Path:
    """Save a tiny randomly initialised BERT sentence-transformers model.

    Args:
        texts: texts to train the WordPiece tokenizer on.
        out_dir: SentenceTransformer folder to write.
        hidden: hidden size.
        layers: transformer layers.
        heads: attention heads.
        vocab_size: WordPiece vocabulary size.
        seed: torch seed for the random weights.
        prompts: saved prompts (``TINY_PROMPTS`` by default; ``{}`` for none).

    Returns:
        ``out_dir``.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    hf_dir = Path(out_dir).with_name(Path(out_dir).name + "-hf")
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=hidden * 2, max_position_embeddings=128)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=128)
    model = SentenceTransformer(modules=[transformer, Pooling(hidden, "mean")], device="cpu",
                                prompts=TINY_PROMPTS if prompts is None else prompts)
    model.save(str(out_dir))
    return Path(out_dir)
