"""Planning an experiment: the config, the runs it expands to, their order and identity."""
