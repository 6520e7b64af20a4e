"""WebShop (Yao et al., 2022) as a pure-Python multi-turn text env over the real 1,000-product catalog.

Modules: `data` (files and download), `catalog` (one shared read-only catalog and BM25 index per
process, cached on disk and memory-mapped), `goals` (synthetic and human goals, splits),
`reward` (the paper's purchase reward), `pages` (text-mode pages and clickables), `expert`
(oracle actions), `env` (`WebShopEnv`, registered as `turnrl/WebShop-v0`).
"""
