"""One read-only product catalog and BM25 index per process, built once per catalog on disk.

GEM's WebShop needed 512 GB of RAM for 8 env copies because every copy loaded the catalog and a
search engine. Here:

- the index is built once per catalog file (keyed by its SHA-256) into a cache directory and
  loaded memory-mapped, so subprocess workers share the page cache instead of private copies;
- `products.jsonl` is memory-mapped and a product is parsed only when a page or the reward
  needs it; what every results page needs (ASINs, titles, price tags, options) sits in a small
  JSON file;
- the spaCy nouns of every catalog title (the reward's type factor) are computed at build time,
  so workers never load spaCy for catalog goals;
- `load_catalog` caches one `Catalog` per (data dir, index dir) at module level, so N env copies
  in one process share it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from turnrl import datadir
from turnrl.envs.webshop.data import PRODUCTS, webshop_dir

FORMAT = 1  # bump when the cached files change shape
PRICE_SEED = 233  # products listed with a price range get one fixed price drawn in it
MAX_RESULTS = 50  # WebShop shows the top 50 hits


def _search_text(p: dict[str, Any]) -> str:
    values = " ".join(v for vs in p.get("options", {}).values() for v in vs)
    return " ".join([p["Title"], p.get("Description") or "", " ".join(p.get("BulletPoints") or []), values]).lower()


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words without English stop words, Snowball-stemmed (index and queries alike)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def _sample_prices(pricings: list[list[float]]) -> list[float]:
    """WebShop's rule: a single price is the price; a range gets a uniform draw (fixed seed).

    A few listings give the range high-to-low; the draw is over the same interval either way.
    """
    rng = np.random.default_rng(PRICE_SEED)
    return [float(p[0]) if len(p) == 1 else float(rng.uniform(min(p[:2]), max(p[:2]))) for p in pricings]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256(str(FORMAT).encode())
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_price(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < float("inf")


# field -> (check, what it must be); a field that is absent takes WebShop's default
_FIELD_TYPES = {
    "asin": (lambda v: isinstance(v, str) and bool(v), "a non-empty string"),
    "Title": (lambda v: isinstance(v, str), "a string"),
    "Price": (lambda v: isinstance(v, str), "a string"),
    "Description": (lambda v: v is None or isinstance(v, str), "a string"),
    "BulletPoints": (lambda v: v is None or _is_texts(v), "a list of strings"),
    "Attributes": (lambda v: v is None or _is_texts(v), "a list of strings"),
    "query": (lambda v: isinstance(v, str), "a string"),
    "product_category": (lambda v: isinstance(v, str), "a string"),
    "pricing": (lambda v: isinstance(v, list) and 1 <= len(v) <= 2 and all(_is_price(p) for p in v),
                "a list of one price or a [low, high] range (WebShop's default 100.0 applies only when absent)"),
    "options": (lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_texts(vs) for k, vs in v.items()),
                "an object of option name -> list of value strings"),
    "instructions": (lambda v: isinstance(v, list) and all(isinstance(h, dict) for h in v), "a list of objects"),
}


def _parse_record(line: bytes, path: Path, lineno: int) -> dict[str, Any]:
    """One product line, its field types checked: a wrong type fails here, naming file and line,
    not later as a TypeError deep inside search, paging or the reward."""
    try:
        record = json.loads(line)
    except ValueError as e:
        raise ValueError(f"{path}:{lineno}: not a JSON product record ({e})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}:{lineno}: a product record must be a JSON object, got {type(record).__name__}")
    missing = [k for k in ("asin", "Title", "Price") if k not in record]
    if missing:
        raise ValueError(f"{path}:{lineno}: product record lacks {missing}")
    for name, (ok, what) in _FIELD_TYPES.items():
        if name in record and not ok(record[name]):
            raise ValueError(f"{path}:{lineno}: product {record.get('asin')!r}: field {name!r} must be {what}, "
                             f"got {json.dumps(record[name])[:80]}")
    return record


def build_index(products_path: Path, out: Path) -> None:
    """Write the BM25 index, line offsets and page metadata for `products_path` into `out`."""
    import bm25s

    from turnrl.envs.webshop.reward import title_nouns_many

    offsets, products = [0], []
    with products_path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            offsets.append(offsets[-1] + len(line))
            products.append(_parse_record(line, products_path, lineno))
    retriever = bm25s.BM25()
    retriever.index(_tokenize([_search_text(p) for p in products]), show_progress=False)
    titles = [p["Title"] for p in products]
    meta = {
        "format": FORMAT,
        "asins": [p["asin"] for p in products],
        "titles": titles,
        "price_tags": [p["Price"] for p in products],
        "prices": _sample_prices([p.get("pricing") or [100.0] for p in products]),
        "options": [p.get("options") or {} for p in products],
        "title_nouns": title_nouns_many(titles),
    }
    out.mkdir(parents=True, exist_ok=True)
    retriever.save(str(out / "bm25"))
    np.save(out / "offsets.npy", np.asarray(offsets, dtype=np.int64))
    (out / "meta.json").write_text(json.dumps(meta))


def ensure_index(products_path: Path, index_root: Path | None = None) -> Path:
    """The index directory for this catalog, building it atomically if absent."""
    root = Path(index_root) if index_root else Path(os.environ.get("WEBSHOP_INDEX_DIR") or datadir.cache_root() / "webshop-index")
    target = root / _file_digest(products_path)
    if (target / "meta.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        build_index(products_path, tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: keep its copy
            if not (target / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@dataclass(eq=False)
class Catalog:
    """Read-only products and search; safe to share between env copies in one process."""

    data_dir: Path
    index_dir: Path
    asins: list[str]
    titles: list[str]
    price_tags: list[str]
    prices: np.ndarray
    options: list[dict[str, list[str]]]
    title_nouns: list[list[str]]
    _offsets: np.ndarray = field(repr=False)
    _products: mmap.mmap = field(repr=False)
    _retriever: Any = field(repr=False)
    _row: dict[str, int] = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._row = {a: i for i, a in enumerate(self.asins)}
        self.product = functools.lru_cache(maxsize=128)(self._parse_product)
        self.search = functools.lru_cache(maxsize=1024)(self._search)

    def __len__(self) -> int:
        return len(self.asins)

    def index_of(self, asin: str) -> int | None:
        return self._row.get(asin.upper())

    def _parse_product(self, i: int) -> dict[str, Any]:
        """The full product record of row `i` (parsed from the memory-mapped file, cached)."""
        return json.loads(self._products[self._offsets[i]:self._offsets[i + 1]])

    def _search(self, query: str, k: int = MAX_RESULTS) -> tuple[int, ...]:
        """Rows of the top-`k` products by BM25 with a positive score (an unknown query finds none)."""
        tokens = _tokenize([query])
        if not tokens[0]:
            return ()
        k = min(k, len(self))
        docs, scores = self._retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return tuple(int(d) for d, s in zip(docs[0], scores[0]) if s > 0)


def _open(data_dir: Path, index_dir: Path) -> Catalog:
    import bm25s

    meta = json.loads((index_dir / "meta.json").read_text())
    with (data_dir / PRODUCTS).open("rb") as f:
        products = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return Catalog(
        data_dir=data_dir, index_dir=index_dir, asins=meta["asins"], titles=meta["titles"],
        price_tags=meta["price_tags"], prices=np.asarray(meta["prices"]), options=meta["options"],
        title_nouns=meta["title_nouns"], _offsets=np.load(index_dir / "offsets.npy", mmap_mode="r"),
        _products=products, _retriever=bm25s.BM25.load(str(index_dir / "bm25"), mmap=True),
    )


_CATALOGS: dict[tuple[str, str | None], Catalog] = {}


def load_catalog(data_dir: str | Path | None = None, index_dir: str | Path | None = None) -> Catalog:
    """The process-wide catalog for this data dir (built on first use, then shared)."""
    path = webshop_dir(data_dir).resolve()
    key = (str(path), str(index_dir) if index_dir else None)
    if key not in _CATALOGS:
        _CATALOGS[key] = _open(path, ensure_index(path / PRODUCTS, Path(index_dir) if index_dir else None))
    return _CATALOGS[key]
