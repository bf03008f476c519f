"""Which specialist answers a question and how hard it thinks: the router, the domain
classifier and its built-in examples."""
