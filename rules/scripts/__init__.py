"""Scripts outside containers: shell scripts, Makefile recipes and Jupyter notebooks."""
