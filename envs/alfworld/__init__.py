"""ALFWorld (Shridhar et al., 2021): household tasks as TextWorld PDDL games, on the real engine.

`games` lists a split's games cheaply, `engine` wraps ALFWorld's TextWorld engine and experts,
`env` is the `turnrl/ALFWorld-v0` env, `data` downloads the official release.
"""
