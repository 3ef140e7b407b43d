"""The aggregate and report stages: tidy tables, figures, the HTML page, compare."""
