"""TextWorld games generated locally with TextWorld's own challenges, as turnrl text envs.

`register.py` holds the Gymnasium ids, `challenges.py` the difficulty presets, `cache.py` the
generate-once game cache, `env.py` the environment. Only `env.py` and `cache.py` import
`textworld`, so importing this package stays cheap.
"""
